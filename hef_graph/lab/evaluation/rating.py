"""Blind rating by people or LLM raters: packets out, rankings in, majority verdicts scored.

A packet shows each dialogue with its replies under letters shuffled per dialogue; the key that maps the
letters back to systems is written to a separate file that raters never see. A rater returns one ranking
file: a line per dialogue such as ``7: B > A = C`` (best first, ``=`` for a tie). Each pair of systems is
scored on the raters' majority (an outcome more than half of them chose, else a tie), with each rater's
agreement with the others and the local judge's agreement with the majority.
"""

from __future__ import annotations

import itertools
import json
import random
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hef_graph.dialogue import format_dialogue
from hef_graph.lab.evaluation.judge import Outcome, load_verdicts, outcome_summary

LETTERS = "ABCDEFGH"
_RANKING_LINE = re.compile(r"^\s*(\d+)\s*:\s*(.+?)\s*$")


class RatingError(ValueError):
    """A packet cannot be made or a ranking file cannot be read; the message says where and why."""


@dataclass(frozen=True)
class PacketItem:
    """One dialogue of a packet: its number, sample and which system each letter hides."""

    number: int
    sample_id: str
    letters: dict[str, str]


def packet_items(
    records: Sequence[Mapping[str, Any]], systems: Sequence[str], seed: int, sample_ids: Sequence[str] | None = None
) -> list[PacketItem]:
    """Every dialogue where all ``systems`` replied (or those of ``sample_ids``), letters shuffled per dialogue."""
    if not 2 <= len(systems) <= len(LETTERS) or len(set(systems)) != len(systems):
        raise RatingError(f"a packet compares 2 to {len(LETTERS)} distinct systems, got {list(systems)}")
    replied: dict[str, set[str]] = {}
    for record in records:
        if record.get("reply"):
            replied.setdefault(record["sample_id"], set()).add(record["system"])
    chosen = [s for s in (sample_ids or sorted(replied)) if set(systems) <= replied.get(s, set())]
    if not chosen:
        raise RatingError(f"no dialogue has replies from all of {list(systems)}")
    rng = random.Random(seed)
    items = []
    for number, sample_id in enumerate(chosen, start=1):
        order = list(systems)
        rng.shuffle(order)
        items.append(PacketItem(number, sample_id, dict(zip(LETTERS, order, strict=False))))
    return items


def packet_text(items: Sequence[PacketItem], records: Sequence[Mapping[str, Any]]) -> str:
    """The packet a rater reads: each dialogue, then its replies by letter. No system name appears."""
    by_key = {(r["sample_id"], r["system"]): r for r in records if r.get("reply")}
    blocks = []
    for item in items:
        context = next(by_key[(item.sample_id, s)]["context"] for s in item.letters.values())
        replies = "\n".join(f"{letter}: {by_key[(item.sample_id, system)]['reply']}"
                            for letter, system in item.letters.items())  # fmt: skip
        blocks.append(f"## Dialogue {item.number}\n\n{format_dialogue(context, 10_000)}\n\nReplies:\n{replies}\n")
    return "\n".join(blocks)


def write_packet(
    records: Sequence[Mapping[str, Any]], systems: Sequence[str], seed: int, folder: Path,
    sample_ids: Sequence[str] | None = None,
) -> list[PacketItem]:  # fmt: skip
    """Write ``packet.md`` (for raters) and ``key.json`` (never for raters) into ``folder``."""
    items = packet_items(records, systems, seed, sample_ids)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "packet.md").write_text(packet_text(items, records), encoding="utf-8")
    dialogues = [{"number": i.number, "sample_id": i.sample_id, "letters": i.letters} for i in items]
    key = {"systems": list(systems), "seed": seed, "dialogues": dialogues}
    (folder / "key.json").write_text(json.dumps(key, indent=1) + "\n", encoding="utf-8")
    return items


def read_key(path: Path) -> list[PacketItem]:
    """The packet's items from its key file."""
    key = json.loads(path.read_text(encoding="utf-8"))
    return [PacketItem(d["number"], d["sample_id"], d["letters"]) for d in key["dialogues"]]


def read_ranking(path: Path, items: Sequence[PacketItem]) -> dict[int, dict[str, int]]:
    """One rater's file as {dialogue number: {letter: rank}} (rank 0 is best; tied letters share a rank).

    Every dialogue of the key must be ranked once, with each of its letters exactly once.
    """
    letters_of = {item.number: set(item.letters) for item in items}
    ranks: dict[int, dict[str, int]] = {}
    for line_number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _RANKING_LINE.match(line)
        where = f"{path.name}, line {line_number}"
        if not match:
            raise RatingError(f"{where}: expected 'N: B > A = C', got {line.strip()!r}")
        number = int(match.group(1))
        if number not in letters_of or number in ranks:
            raise RatingError(f"{where}: dialogue {number} is not in the packet or is ranked twice")
        ranks[number] = ranking_of(match.group(2), letters_of[number], where)
    missing = sorted(set(letters_of) - set(ranks))
    if missing:
        raise RatingError(f"{path.name}: no ranking for dialogues {missing}")
    return ranks


def ranking_of(text: str, letters: set[str], where: str) -> dict[str, int]:
    """``B > A = C`` as {letter: rank}, checking that it names each of ``letters`` once."""
    ranks: dict[str, int] = {}
    for rank, group in enumerate(text.upper().split(">")):
        for letter in (part.strip() for part in group.split("=")):
            if letter not in letters or letter in ranks:
                raise RatingError(f"{where}: {letter!r} is not one of {sorted(letters)} or is named twice")
            ranks[letter] = rank
    if set(ranks) != letters:
        raise RatingError(f"{where}: the ranking must name each of {sorted(letters)}")
    return ranks


def pair_outcome(ranks: Mapping[str, int], item: PacketItem, system: str, other: str) -> Outcome:
    """How ``system`` fared against ``other`` in one rater's ranking of one dialogue."""
    letter = {s: letter for letter, s in item.letters.items()}
    mine, theirs = ranks[letter[system]], ranks[letter[other]]
    return "win" if mine < theirs else "loss" if mine > theirs else "tie"


def majority(outcomes: Sequence[Outcome]) -> Outcome:
    """The outcome more than half the raters chose; a tie when none did."""
    outcome, count = Counter(outcomes).most_common(1)[0]
    return outcome if count * 2 > len(outcomes) else "tie"


def score_pair(
    items: Sequence[PacketItem], rankings: Mapping[str, Mapping[int, Mapping[str, int]]], system: str, other: str
) -> dict[str, Any]:
    """Majority win / tie / loss of ``system`` against ``other``, with each rater's own counts and agreement."""
    per_rater = {rater: [pair_outcome(ranks[i.number], i, system, other) for i in items]
                 for rater, ranks in rankings.items()}  # fmt: skip
    verdicts = [majority([per_rater[r][n] for r in per_rater]) for n in range(len(items))]
    raters = {}
    for rater, outcomes in per_rater.items():
        raters[rater] = dict(Counter(outcomes))
        if len(per_rater) > 1:  # a lone rater has no others to agree with
            others = [majority([per_rater[r][n] for r in per_rater if r != rater]) for n in range(len(items))]
            raters[rater]["agrees_with_the_others"] = round(_share(outcomes, others), 3)
    return {"majority": outcome_summary(verdicts, "raters' majority"), "raters": raters,
            "verdicts": dict(zip((i.sample_id for i in items), verdicts, strict=True))}  # fmt: skip


def score_ratings(
    key_path: Path, ranking_paths: Sequence[Path], judge_verdicts: Path | None = None,
    records: Sequence[Mapping[str, Any]] = (), noted_by: str = "hef",
) -> dict[str, Any]:  # fmt: skip
    """Score every pair of the key's systems on the raters' majority.

    With ``judge_verdicts`` (a pairwise.jsonl of the local judge), each pair also reports how often the
    judge's verdict equals the raters' majority on the dialogues both judged; with the evaluation's
    ``records``, it is also broken down by what ``noted_by`` (a HEF system) did on each dialogue (``breakdown``).
    """
    if len(ranking_paths) < 1:
        raise RatingError("give at least one ranking file")
    items = read_key(key_path)
    rankings = {path.stem: read_ranking(path, items) for path in ranking_paths}
    systems = json.loads(key_path.read_text(encoding="utf-8"))["systems"]
    pairs = {f"{a}_vs_{b}": (a, b) for a, b in itertools.combinations(systems, 2)}
    judged = load_verdicts(judge_verdicts) if judge_verdicts else {}
    scores: dict[str, Any] = {"dialogues": len(items), "raters": sorted(rankings), "pairs": {}}
    for name, (system, other) in pairs.items():
        scored = score_pair(items, rankings, system, other)
        shared = [s for s in scored["verdicts"] if (s, name) in judged]
        if shared:
            raters = [scored["verdicts"][s] for s in shared]
            judge = [judged[(s, name)].outcome for s in shared]
            scored["judge_agreement"] = {"dialogues": len(shared), "agreement": round(_share(raters, judge), 3)}
        if records:
            scored["by_what_hef_did"] = {"system": noted_by} | breakdown(scored["verdicts"], records, noted_by)
        scores["pairs"][name] = scored
    return scores


def breakdown(
    verdicts: Mapping[str, Outcome], records: Sequence[Mapping[str, Any]], system: str = "hef"
) -> dict[str, dict[str, Any]]:
    """A pair's majority verdicts split by what ``system`` (a HEF system) did on each dialogue.

    The splits are whether HEF's prompt carried notes (where it did not, the two writer arms had the same prompt,
    so any difference is the writers' own), whether HEF's reply was begun with an opener (where it was not, HEF's
    prompt is the framed LLM's) and whether HEF's emotion was the gold one.
    """
    hef = {r["sample_id"]: r for r in records if r["system"] == system and r.get("guidance") is not None}
    groups: dict[str, list[Outcome]] = {}
    for sample_id, outcome in verdicts.items():
        record = hef.get(sample_id)
        if record is None:
            continue
        groups.setdefault("with_notes" if record["guidance"]["notes"] else "without_notes", []).append(outcome)
        groups.setdefault("with_opener" if record["guidance"].get("opener") else "without_opener", []).append(outcome)
        groups.setdefault("emotion_right" if record["emotion"] == record["gold"] else "emotion_wrong", []).append(
            outcome
        )
    return {name: dict(Counter(outcomes)) for name, outcomes in sorted(groups.items())}


def _share(first: Sequence[str], second: Sequence[str]) -> float:
    """The share of positions where the two sequences agree."""
    return sum(a == b for a, b in zip(first, second, strict=True)) / len(first)
