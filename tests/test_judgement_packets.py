"""Judgement packets for an external LLM: export reveals no gold, import reports bad answers, scores add up."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hef_graph.cli import app
from hef_graph.context import Context
from hef_graph.lab.data import DialogueSample
from hef_graph.lab.evaluation.judgement import (
    Arm,
    JudgementPacketError,
    KeyItem,
    excluded_conversations,
    export_packet,
    fallback_items,
    key_items,
    load_answers,
    read_answers,
    write_answers,
)
from hef_graph.lab.evaluation.judgement_scores import (
    Combination,
    Rankings,
    combined_rankings,
    hef_rankings,
    own_rankings,
    score,
    sem_rankings,
    tune,
)
from hef_graph.labels import EMOTIONS
from tests.conftest import ScriptedSEM

GOLDS = ("sad", "lonely", "proud", "joyful")


def samples(golds=GOLDS) -> list[DialogueSample]:
    return [DialogueSample(f"hit:{n}_conv:{100 + n}", 1, (f"Something happened to me, number {n}.",), gold,
                           "reply", "situation") for n, gold in enumerate(golds)]  # fmt: skip


def export(folder: Path, arm: Arm, golds=GOLDS, split: str = "test") -> list[KeyItem]:
    items = key_items(samples(golds), arm, ScriptedSEM(), Context(), "order")
    export_packet(folder, arm, items, {"split": split, "seed": 1, "per_label": 1})
    return items


def answer(folder: Path, *lines: str) -> list[str]:
    (folder / "answers.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return write_answers(folder, read_answers(folder))


@pytest.mark.parametrize("arm", ["alone", "hef_primary", "own_top3"])
def test_packet_shows_only_the_prompts_never_the_gold_or_the_sample(tmp_path, arm):
    export(tmp_path / "a", arm)
    export(tmp_path / "b", arm, golds=("angry", "afraid", "content", "hopeful"))
    packet = (tmp_path / "a" / "packet.md").read_text(encoding="utf-8")
    assert packet == (tmp_path / "b" / "packet.md").read_text(encoding="utf-8")  # the gold changes nothing
    for secret in ("conv:", "hit:", "gold", "SEM", "HEF", "stage", arm, "0.51"):
        assert secret not in packet, secret
    key = json.loads((tmp_path / "a" / "key.json").read_text(encoding="utf-8"))
    assert [item["gold"] for item in key["items"]] != list(GOLDS)  # shuffled: not in the sample's order
    assert all(item["prompt"] in packet for item in key["items"])


def test_packets_carry_the_graphs_questions(tmp_path):
    primary = export(tmp_path / "p", "hef_primary")
    assert primary[0].candidates == ["sad", "lonely", "devastated", "none"]
    assert "feel: sad, lonely, devastated, none? If none fits, say none." in primary[0].prompt
    alone = export(tmp_path / "a", "alone")
    assert alone[0].candidates == list(EMOTIONS)
    ranked = export(tmp_path / "r", "own_top3")
    assert "Name the three most likely" in ranked[0].prompt and "sad, lonely" not in ranked[0].prompt


def test_import_reports_missing_unknown_and_repeated_answers_without_guessing(tmp_path):
    export(tmp_path, "hef_primary")
    problems = answer(tmp_path, "1: sad", "2: happy", "2: lonely", "3: Lonely.")
    assert problems == ["item 2: answered twice (answer: 'happy | lonely')",
                        "item 4: no answer (answer: '')"]  # fmt: skip
    answers = load_answers(tmp_path)
    assert answers[1].labels == ("sad",) and answers[3].labels == ("lonely",) and not answers[2].valid
    answer(tmp_path, "1: joyful", "2: happy", "3: none", "4: sad")
    answers = load_answers(tmp_path)
    assert answers[1].problems == ("'joyful' is not one of the item's labels",)  # not offered: never mapped
    assert answers[2].problems == ("'happy' is not one of the item's labels",)
    (tmp_path / "answers.txt").write_text("1: sad\nitem two is lonely\n", encoding="utf-8")
    with pytest.raises(JudgementPacketError, match="not 'N: answer'"):
        read_answers(tmp_path)


def test_import_reports_malformed_confidences(tmp_path):
    export(tmp_path, "own_top3")
    problems = answer(tmp_path, "1: sad 0.6; lonely 0.3; devastated 0.1", "2: sad 0.9; lonely 0.8; angry 0.1",
                      "3: sad; lonely; angry", "4: sad 0.5; sad 0.3; angry 0.1")  # fmt: skip
    assert [line.split(":")[0] for line in problems] == ["item 2", "item 3", "item 4"]
    assert "sum to 1.80" in problems[0] and "not 'label confidence'" in problems[1] and "named twice" in problems[2]
    assert load_answers(tmp_path)[1].confidences == (0.6, 0.3, 0.1)


def test_stage_two_asks_only_where_stage_one_found_no_fit(tmp_path):
    items = export(tmp_path / "one", "hef_primary")
    answer(tmp_path / "one", "1: sad", "2: none", "3: joyful", "4: lonely")
    second = fallback_items(tmp_path / "one", Context(), "order")
    asked = {item.sample_id for item in second}
    assert asked == {items[1].sample_id, items[2].sample_id}  # 'none' and an unusable answer, as the graph does
    assert all(len(item.candidates) == 29 and "sad" not in item.candidates for item in second)
    assert "Answer with one word." in second[0].prompt and "none" not in second[0].candidates
    answer(tmp_path / "one", "1: sad", "2: none")
    with pytest.raises(JudgementPacketError, match=r"items \[3, 4\]"):
        fallback_items(tmp_path / "one", Context(), "order")


def test_scores_by_hand():
    gold = {"a": "sad", "b": "joyful"}
    arms: dict[str, Rankings] = {"sem": {"a": ("sad", "lonely", "angry"), "b": ("proud", "joyful", "content")},
            "alone": {"a": ("angry",), "b": ("joyful",)}, "own_top3": {"a": (), "b": ("joyful",)}}  # fmt: skip
    scores = score(arms, gold, [("alone", "sem"), ("own_top3", "sem")])
    sem, alone = scores["arms"]["sem"], scores["arms"]["alone"]
    assert (sem["top1"]["value"], sem["top3"]["value"], sem["valence"]["value"]) == (0.5, 1.0, 1.0)
    assert (alone["top1"]["value"], alone["top3"], alone["valence"]["value"]) == (0.5, None, 1.0)
    assert scores["arms"]["own_top3"]["no_answer"] == 1 and scores["arms"]["own_top3"]["valence"]["value"] == 0.5
    assert scores["differences"]["alone - sem"]["top1"]["value"] == 0.0
    assert scores["differences"]["own_top3 - sem"]["top3"]["value"] == -0.5
    low, high = sem["top1"]["ci95"]
    assert 0.0 <= low <= 0.5 <= high <= 1.0
    with pytest.raises(JudgementPacketError):
        score({"sem": {"a": ("sad",)}}, gold, [])


def test_arms_score_as_the_graph_would_use_their_answers(tmp_path):
    items = export(tmp_path / "one", "hef_primary")
    answer(tmp_path / "one", "1: sad", "2: none", "3: joyful", "4: lonely")
    export_packet(tmp_path / "two", "hef_fallback", fallback_items(tmp_path / "one", Context(), "o"), {})
    second = {item.sample_id: item.number for item in fallback_items(tmp_path / "one", Context(), "o")}
    lines = {items[1].sample_id: "angry", items[2].sample_id: "nonsense"}
    answer(tmp_path / "two", *(f"{second[sid]}: {label}" for sid, label in lines.items()))
    hef = hef_rankings(tmp_path / "one", tmp_path / "two")
    assert hef[items[0].sample_id] == ("sad",) and hef[items[1].sample_id] == ("angry",)
    assert hef[items[2].sample_id] == ("sad",)  # both stages unusable: the SEM's top-1 stands
    assert sem_rankings(items)[items[0].sample_id] == ("sad", "lonely", "devastated")


def test_combination_falls_back_to_the_sem_and_tuning_refuses_test(tmp_path):
    items = export(tmp_path, "own_top3")
    answer(tmp_path, "1: proud 0.8; sad 0.1; lonely 0.1", "2: sad 0.5; sad 0.3; angry 0.1",
           "3: proud 0.8; sad 0.1; lonely 0.1", "4: proud 0.8; sad 0.1; lonely 0.1")  # fmt: skip
    combined = combined_rankings(tmp_path, Combination(weight=0.0, floor=0.01))
    assert all(ranking[0] == "sad" for ranking in combined.values())  # weight 0: the SEM's choice
    strong = combined_rankings(tmp_path, Combination(weight=10.0, floor=0.01))
    assert strong[items[0].sample_id][0] == "proud" and strong[items[1].sample_id][0] == "sad"  # invalid: the SEM
    assert own_rankings(tmp_path)[items[1].sample_id] == ()
    with pytest.raises(JudgementPacketError, match="valid own_top3"):
        tune(tmp_path)


def test_tune_chooses_the_weight_that_does_best_on_valid(tmp_path):
    items = export(tmp_path, "own_top3", golds=("proud", "proud", "sad", "proud"), split="valid")
    answer(tmp_path, *(f"{item.number}: proud 0.6; sad 0.3; lonely 0.1" for item in items))
    tuned = tune(tmp_path, weights=(0.0, 10.0), floors=(0.01,))
    assert (tuned["weight"], tuned["top1"]) == (10.0, 0.75)  # the SEM says sad everywhere; 3 of 4 are proud


def test_cli_runs_import_and_tune(tmp_path):
    export(tmp_path, "own_top3", split="valid")
    (tmp_path / "answers.txt").write_text("1: proud 0.6; sad 0.3; lonely 0.1\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["judge", "import", "--folder", str(tmp_path)])
    assert result.exit_code == 1 and "1 of 4 answers as asked" in result.output and "item 2: no answer" in result.output
    result = CliRunner().invoke(app, ["judge", "tune", "--folder", str(tmp_path), "--out", str(tmp_path / "t.json")])
    assert result.exit_code == 0 and "chosen: ranked_weight=" in result.output


def test_exclusion_reads_conversation_ids_from_any_file(tmp_path):
    listing = tmp_path / "earlier.txt"
    listing.write_text('# a comment\nhit:1_conv:2\n{"sample_id": "hit:3_conv:4#1"}\n', encoding="utf-8")
    assert excluded_conversations([listing]) == {"hit:1_conv:2", "hit:3_conv:4"}
