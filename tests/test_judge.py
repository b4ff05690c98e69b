"""The pairwise reply judge with scripted log-probabilities: both orders, win / tie / loss, intervals, resuming."""

import math

import pytest

from hef_graph.lab.evaluation.judge import (
    PAIRS,
    PairVerdict,
    judge_pair,
    judge_replies,
    load_verdicts,
    summarise,
    wilson,
)
from hef_graph.lab.evaluation.report import replies_markdown
from hef_graph.llm.letters import LetterScoringRuntime
from tests.conftest import fake_llm


class ScriptedJudge(LetterScoringRuntime):
    """Prefers the reply that contains ``liked`` (or, with no such reply, whatever is shown first)."""

    def __init__(self, liked: str = "warm", position_bias: float = 0.0) -> None:
        super().__init__(fake_llm("unused"), "scripted judge")
        self.liked, self.position_bias, self.calls = liked, position_bias, 0

    def letter_log_probs(self, messages, letters):
        self.calls += 1
        task = str(messages[-1].content)
        first = task.split("Reply A:", 1)[1].split("Reply B:", 1)[0]
        second = task.split("Reply B:", 1)[1]
        p_first = 0.5 + self.position_bias + 0.3 * ((self.liked in first) - (self.liked in second))
        p_first = min(max(p_first, 0.01), 0.99)
        return {"A": math.log(p_first), "B": math.log(1 - p_first)}


def test_a_reply_preferred_in_both_orders_wins_and_the_other_loses():
    judge = ScriptedJudge()
    win = judge_pair(judge, "s1", "hef_vs_llm", ["I lost my dog"], "a warm reply", "a cold reply")
    loss = judge_pair(judge, "s1", "hef_vs_llm", ["I lost my dog"], "a cold reply", "a warm reply")
    assert (win.outcome, loss.outcome) == ("win", "loss") and judge.calls == 4
    assert win.shown_first == pytest.approx(0.8) and win.shown_second == pytest.approx(0.8)


def test_a_judge_that_always_picks_the_first_reply_gives_ties_not_wins():
    verdict = judge_pair(ScriptedJudge(liked="nothing", position_bias=0.2), "s1", "p", ["hi"], "one", "two")
    assert verdict.outcome == "tie"
    assert summarise([verdict], "j")["position_bias"] == pytest.approx(0.2)


def test_summary_counts_outcomes_with_intervals_that_hold_the_shares():
    verdicts = [PairVerdict(str(i), "p", *(0.9, 0.8) if i < 6 else (0.2, 0.3) if i < 8 else (0.7, 0.4))
                for i in range(10)]  # fmt: skip
    summary = summarise(verdicts, "judge")
    assert (summary["win"], summary["tie"], summary["loss"], summary["n"]) == (6, 2, 2, 10)
    low, high = summary["win_rate_95ci"]
    assert low < 0.6 < high and summary["net_win_rate"] == pytest.approx(0.4)
    assert summary["net_win_rate_95ci"][0] < 0.4 < summary["net_win_rate_95ci"][1]


def test_wilson_interval_matches_the_textbook_value():
    low, high = wilson(8, 10)  # Wilson 95% for 8/10: 0.490 .. 0.943
    assert low == pytest.approx(0.490, abs=1e-3) and high == pytest.approx(0.943, abs=1e-3)


def records(sample_id: str) -> list[dict]:
    base = {"sample_id": sample_id, "context": ["My dog died."], "gold": "sad", "reference": "So sorry."}
    return [
        base | {"system": "hef", "reply": "A warm reply.", "emotion": "sad", "cause_words": ["dog"]},
        base | {"system": "llm", "reply": "A cold reply."},
        base | {"system": "llm_framed", "reply": "A cool reply."},
        base | {"system": "hef_smollm2", "reply": "Another cold reply.", "emotion": "sad", "cause_words": []},
    ]


def test_judge_replies_covers_both_pairs_and_resumes_without_judging_again(tmp_path):
    judge, path = ScriptedJudge(), tmp_path / "pairwise.jsonl"
    rows = records("s1") + records("s2")
    summary = judge_replies(judge, rows, path)
    assert set(summary) == set(PAIRS) - {"writer_guided_vs_writer_plain"}  # no writer replied
    assert all(s["win"] == 2 and s["n"] == 2 for s in summary.values())
    calls = judge.calls
    assert judge_replies(judge, rows, path) == summary and judge.calls == calls
    assert len(load_verdicts(path)) == 6


def test_a_rerun_judges_again_only_the_pairs_whose_replies_changed(tmp_path):
    judge, path = ScriptedJudge(), tmp_path / "pairwise.jsonl"
    rows = records("s1") + records("s2")
    judge_replies(judge, rows, path)
    calls = judge.calls
    changed = [row | {"reply": "A cold answer."} if (row["sample_id"], row["system"]) == ("s2", "hef") else row
               for row in rows]  # fmt: skip
    summary = judge_replies(judge, changed, path)
    assert judge.calls == calls + 6  # s2's three pairs, both orders each
    assert all(s["win"] == 1 and s["n"] == 2 for s in summary.values())
    assert load_verdicts(path)[("s2", "hef_vs_llm")].outcome == "tie"
    assert len(path.read_text().splitlines()) == 6  # the superseded verdicts are gone from the file


def test_a_verdict_without_a_record_of_what_it_judged_is_judged_again(tmp_path):
    judge, path = ScriptedJudge(), tmp_path / "pairwise.jsonl"
    path.write_text('{"sample_id": "s1", "pair": "hef_vs_llm", "shown_first": 0.1, "shown_second": 0.1}\n')
    summary = judge_replies(judge, records("s1"), path)
    assert summary["hef_vs_llm"]["win"] == 1 and judge.calls == 6  # three pairs, both orders


def test_replies_page_shows_each_dialogue_with_every_reply():
    page = replies_markdown(records("s1") + records("s2"), seed=0, count=1)
    assert page.count("## ") == 1 and "**Speaker:** My dog died." in page
    assert "**hef** *(sad; dog)*: A warm reply." in page and "**llm**: A cold reply." in page
