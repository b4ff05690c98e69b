"""Blind rating: packets hide the systems, rankings are read strictly, and majorities are scored."""

import json

import pytest
from typer.testing import CliRunner

from hef_graph.cli import app
from hef_graph.lab.evaluation.judge import PairVerdict, write_verdicts
from hef_graph.lab.evaluation.rating import (
    RatingError,
    majority,
    read_key,
    read_ranking,
    score_ratings,
    write_packet,
)
from hef_graph.lab.evaluation.writer import export_prompts, import_both, import_replies

SYSTEMS = ["hef", "llm_framed", "llm"]


def records(n: int = 4) -> list[dict]:
    rows = []
    for i in range(n):
        for system in SYSTEMS:
            rows.append({"sample_id": f"conv{i}#1", "system": system, "gold": "sad", "reference": "ok",
                         "context": [f"My plant number {i} died."], "reply": f"Reply {SYSTEMS.index(system)} to {i}.",
                         "guidance": {"notes": ["This seems to be hard for them: be gentle."]}})  # fmt: skip
    return rows


def write_rankings(folder, key_path, best: dict[str, str]) -> list:
    """One file per rater: each rater puts ``best[rater]`` first and ties the other two."""
    items = read_key(key_path)
    paths = []
    for rater, system in best.items():
        lines = []
        for item in items:
            letter = {s: x for x, s in item.letters.items()}
            rest = [letter[s] for s in SYSTEMS if s != system]
            lines.append(f"{item.number}: {letter[system]} > {' = '.join(rest)}")
        path = folder / f"{rater}.txt"
        path.write_text("# ranked blind\n" + "\n".join(lines) + "\n")
        paths.append(path)
    return paths


def test_the_packet_hides_the_systems_and_the_key_maps_letters_back(tmp_path):
    items = write_packet(records(), SYSTEMS, seed=0, folder=tmp_path)
    packet = (tmp_path / "packet.md").read_text()
    assert "hef" not in packet and "llm" not in packet
    assert len(items) == 4 and all(sorted(i.letters) == ["A", "B", "C"] for i in items)
    assert len({tuple(i.letters.values()) for i in items}) > 1  # shuffled per dialogue
    for item in items:
        for letter, system in item.letters.items():
            assert f"{letter}: Reply {SYSTEMS.index(system)} to {item.number - 1}." in packet
    assert read_key(tmp_path / "key.json") == items
    assert write_packet(records(), SYSTEMS, seed=0, folder=tmp_path / "again") == items  # the seed fixes the letters


def test_a_packet_needs_every_system_to_have_replied(tmp_path):
    with pytest.raises(RatingError, match="no dialogue"):
        write_packet(records(), ["hef", "writer_plain"], 0, tmp_path)
    with pytest.raises(RatingError, match="distinct"):
        write_packet(records(), ["hef", "hef"], 0, tmp_path)


def test_majority_needs_more_than_half():
    assert majority(["win", "win", "loss"]) == "win"
    assert majority(["win", "tie", "loss"]) == "tie"
    assert majority(["loss", "loss", "tie"]) == "loss"


def test_rankings_are_scored_on_the_majority_with_agreement(tmp_path):
    write_packet(records(), SYSTEMS, 0, tmp_path)
    paths = write_rankings(tmp_path, tmp_path / "key.json", {"r1": "hef", "r2": "hef", "r3": "llm"})
    verdicts = tmp_path / "pairwise.jsonl"
    write_verdicts(verdicts, [PairVerdict(f"conv{i}#1", "hef_vs_llm", 0.9, 0.9) for i in range(3)]
                   + [PairVerdict("conv3#1", "hef_vs_llm", 0.1, 0.1)])  # fmt: skip
    command = ["rate-score", "--key", str(tmp_path / "key.json"), *map(str, paths), "--judge-verdicts", str(verdicts)]
    result = CliRunner().invoke(app, [*command, "--out", str(tmp_path / "s.json")])
    assert result.exit_code == 0, result.output
    scores = json.loads((tmp_path / "s.json").read_text())
    hef_llm = scores["pairs"]["hef_vs_llm"]
    assert (hef_llm["majority"]["win"], hef_llm["majority"]["loss"]) == (4, 0)
    assert hef_llm["raters"]["r3"]["loss"] == 4 and hef_llm["raters"]["r3"]["agrees_with_the_others"] == 0.0
    assert hef_llm["judge_agreement"] == {"dialogues": 4, "agreement": 0.75}
    framed_llm = scores["pairs"]["llm_framed_vs_llm"]  # r1, r2 tie them, r3 puts llm first
    assert (framed_llm["majority"]["tie"], framed_llm["raters"]["r3"]["loss"]) == (4, 4)
    assert "hef_vs_llm: 4 / 0 / 0" in result.output


def test_one_rater_is_scored_without_an_agreement_figure(tmp_path):
    write_packet(records(), SYSTEMS, 0, tmp_path)
    (path,) = write_rankings(tmp_path, tmp_path / "key.json", {"r1": "hef"})
    result = CliRunner().invoke(app, ["rate-score", "--key", str(tmp_path / "key.json"), str(path)])
    assert result.exit_code == 0, result.output
    assert "hef_vs_llm: 4 / 0 / 0" in result.output and "of 1 raters" in result.output


def test_verdicts_are_split_by_what_hef_did(tmp_path):
    rows = records()
    rows[0] |= {"guidance": {"notes": [], "opener": "Oh, I'm so sorry"}, "emotion": "sad"}  # conv0: an opener
    for row in rows[3::3]:
        row |= {"emotion": "joyful"}  # conv1..3: notes, emotion wrong
    write_packet(rows, SYSTEMS, 0, tmp_path)
    paths = write_rankings(tmp_path, tmp_path / "key.json", {"r1": "hef", "r2": "hef", "r3": "hef"})
    split = score_ratings(tmp_path / "key.json", paths, records=rows)["pairs"]["hef_vs_llm"]["by_what_hef_did"]
    assert split == {"system": "hef", "emotion_right": {"win": 1}, "emotion_wrong": {"win": 3},
                     "with_notes": {"win": 3}, "without_notes": {"win": 1},
                     "with_opener": {"win": 1}, "without_opener": {"win": 3}}  # fmt: skip
    for row in rows:
        row.setdefault("emotion", "sad")
    by_llm = score_ratings(tmp_path / "key.json", paths, records=rows, noted_by="llm")["pairs"]["hef_vs_llm"]
    assert by_llm["by_what_hef_did"]["with_notes"] == {"win": 4}  # llm's records all carry the notes here


@pytest.mark.parametrize(
    ("line", "message"),
    [("1: A > B", "each of"), ("1: A > B > D", "'D'"), ("1: A = A > B", "named twice"), ("one: A", "expected"),
     ("9: A > B > C", "not in the packet")],
)  # fmt: skip
def test_bad_ranking_lines_are_refused_with_file_and_line(tmp_path, line, message):
    items = write_packet(records(1), SYSTEMS, 0, tmp_path)
    path = tmp_path / "rater.txt"
    path.write_text(line + "\n")
    with pytest.raises(RatingError, match=message):
        read_ranking(path, items)


def test_a_missing_dialogue_is_refused(tmp_path):
    items = write_packet(records(2), SYSTEMS, 0, tmp_path)
    path = tmp_path / "rater.txt"
    path.write_text("1: A > B = C\n")
    with pytest.raises(RatingError, match=r"no ranking for dialogues \[2\]"):
        read_ranking(path, items)


def test_rate_export_fails_in_one_line_on_unknown_systems(tmp_path):
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text("".join(json.dumps(r) + "\n" for r in records()))
    result = CliRunner().invoke(app, ["rate-export", "--predictions", str(predictions), "--systems", "hef,nope",
                                      "--out", str(tmp_path / "p")])  # fmt: skip
    assert result.exit_code == 2 and "no dialogue has replies" in result.output


def test_writer_arms_are_exported_apart_and_read_back(tmp_path):
    rows = records()
    key = export_prompts(rows, 3, seed=1, folder=tmp_path, max_chars=1500)
    guided = [json.loads(line) for line in (tmp_path / "guided" / "prompts.jsonl").read_text().splitlines()]
    plain = [json.loads(line) for line in (tmp_path / "plain" / "prompts.jsonl").read_text().splitlines()]
    assert all("be gentle" in p["messages"][-1]["content"] for p in guided)
    assert not any("be gentle" in p["messages"][-1]["content"] for p in plain)
    assert sorted(key["guided"].values()) == sorted(key["plain"].values())
    for arm, prompts in (("guided", guided), ("plain", plain)):
        replies = [{"id": p["id"], "reply": "That is hard. How are you holding up? Extra sentence."} for p in prompts]
        (tmp_path / arm / "replies.jsonl").write_text("".join(json.dumps(r) + "\n" for r in replies))
    imported = import_replies(tmp_path, "guided", rows, "strong-writer")
    assert {r["system"] for r in imported} == {"writer_guided"} and len(imported) == 3
    assert imported[0]["reply"] == "That is hard. How are you holding up?"  # cleaned as the graph cleans
    (tmp_path / "plain" / "replies.jsonl").write_text(json.dumps({"id": plain[0]["id"], "reply": "Hi."}) + "\n")
    with pytest.raises(ValueError, match="no reply for"):
        import_replies(tmp_path, "plain", rows, "strong-writer")


def test_a_dialogue_without_notes_is_asked_once_and_both_arms_share_its_reply(tmp_path):
    rows = records(3)
    for row in rows:
        if row["sample_id"] == "conv0#1":
            row["guidance"] = {"notes": []}
    key = export_prompts(rows, 3, seed=1, folder=tmp_path, max_chars=1500)
    assert "conv0#1" in key["plain"].values() and "conv0#1" not in key["guided"].values()
    assert len(key["guided"]) == 2
    for arm in ("guided", "plain"):
        replies = [{"id": pid, "reply": f"{arm} reply to {sample}."} for pid, sample in key[arm].items()]
        (tmp_path / arm / "replies.jsonl").write_text("".join(json.dumps(r) + "\n" for r in replies))
    imported = {(r["system"], r["sample_id"]): r for r in import_both(tmp_path, rows, "strong-writer")}
    assert len(imported) == 6
    assert imported[("writer_guided", "conv0#1")]["reply"] == "plain reply to conv0#1."
    assert imported[("writer_guided", "conv1#1")]["reply"] == "guided reply to conv1#1."
