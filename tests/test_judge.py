"""The LLM-as-judge plug-in with a fake judge: parsing, order randomisation and mapping back."""

import json
import random

from langchain_core.language_models.fake_chat_models import FakeListChatModel

from hef_graph.evaluation.judge import compare, judge_pair, parse_scores

GOOD = {"emotional_reaction": 2, "interpretation": 2, "exploration": 1, "relevance": 5, "fluency": 4}
POOR = {"emotional_reaction": 0, "interpretation": 0, "exploration": 0, "relevance": 2, "fluency": 3}


def answer(first: dict, second: dict) -> str:
    return "Here you go: " + json.dumps({"A": first, "B": second})


def test_parse_scores_checks_every_dimension_and_range():
    assert parse_scores(answer(GOOD, POOR)) == (GOOD, POOR)
    assert parse_scores("no json here") is None
    assert parse_scores(answer(GOOD | {"fluency": 9}, POOR)) is None
    assert parse_scores(json.dumps({"A": {"fluency": 3}, "B": POOR})) is None


def test_scores_are_mapped_back_whatever_the_order():
    rng = random.Random(0)
    for _ in range(6):
        # the fake judge always prefers whatever it was shown first
        result = judge_pair(FakeListChatModel(responses=[answer(GOOD, POOR)]), ["I lost my dog"], "a", "b", rng)
        assert (result.a == GOOD) is result.a_shown_first
        assert (result.b == GOOD) is (not result.a_shown_first)


def test_compare_reports_means_wins_and_unparsed():
    judge = FakeListChatModel(responses=[answer(GOOD, POOR), "garbage", answer(GOOD, POOR)])
    report = compare(judge, [(["hi"], "a", "b")] * 3, seed=1)
    assert report["pairs"] == 3 and report["unparsed"] == 1
    assert report["fluency"]["a_wins"] + report["fluency"]["b_wins"] == 2
