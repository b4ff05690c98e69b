"""Prompts for an external writer, and its replies back in as two more systems.

To test the notes at the strong end, a stronger LLM (an API model, or any writer at hand) answers HEF's
exact reply prompts for a sample: one arm with the SEM's notes (``writer_guided``), one without
(``writer_plain``, the framed prompt). Each arm is exported on its own, under ids of its own and in an order
of its own, so a writer given one arm learns nothing of the other; a key file maps ids back to samples.

Where HEF gave no note, both arms' prompts are the same text, so only the plain arm is asked and the guided
arm reuses its reply, as a deterministic LLM would (two writers asked the same prompt differ by who wrote,
which is not what is measured).
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from hef_graph.guidance import reply_messages
from hef_graph.prompting import chat_dicts
from hef_graph.replies import clean_reply

Arm = Literal["guided", "plain"]
ARMS: tuple[Arm, ...] = ("guided", "plain")
KEY = "writer_key.json"


def notes_of(record: Mapping[str, Any]) -> list[str]:
    """The notes a record's reply was given (its guidance; none where the record has no guidance)."""
    return list((record.get("guidance") or {}).get("notes", []))


def writer_prompts(record: Mapping[str, Any], arm: Arm, max_chars: int) -> list[dict[str, str]]:
    """HEF's reply prompt for one HEF record, with its notes (guided) or without (plain), as chat messages."""
    return chat_dicts(reply_messages(record["context"], notes_of(record) if arm == "guided" else [], max_chars))


def export_prompts(
    records: Sequence[Mapping[str, Any]], count: int, seed: int, folder: Path, max_chars: int, system: str = "hef"
) -> dict[Arm, dict[str, str]]:
    """Write ``<arm>/prompts.jsonl`` for both arms over ``count`` replies of ``system`` drawn by ``seed``.

    Returns the key (each arm's prompt ids and their samples).
    """
    hef = sorted((r for r in records if r["system"] == system and r.get("reply")), key=lambda r: r["sample_id"])
    if len(hef) < count:
        raise ValueError(f"only {len(hef)} replies of {system} recorded, {count} asked")
    chosen = random.Random(seed).sample(hef, count)
    key: dict[Arm, dict[str, str]] = {}
    for offset, arm in enumerate(ARMS):
        asked = [r for r in chosen if notes_of(r)] if arm == "guided" else chosen
        order = random.Random(seed + 1 + offset).sample(asked, len(asked))
        key[arm] = {f"p{n:03d}": r["sample_id"] for n, r in enumerate(order, start=1)}
        lines = [json.dumps({"id": pid, "messages": writer_prompts(r, arm, max_chars)})
                 for pid, r in zip(key[arm], order, strict=True)]  # fmt: skip
        (folder / arm).mkdir(parents=True, exist_ok=True)
        (folder / arm / "prompts.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / KEY).write_text(json.dumps({"seed": seed, "arms": key}, indent=1) + "\n", encoding="utf-8")
    return key


def import_both(
    folder: Path, records: Sequence[Mapping[str, Any]], writer: str, system: str = "hef"
) -> list[dict[str, Any]]:
    """Both arms' replies; a dialogue whose guided prompt was the plain one takes the plain reply as guided."""
    plain = import_replies(folder, "plain", records, writer, system)
    guided = import_replies(folder, "guided", records, writer, system)
    asked = {r["sample_id"] for r in guided}
    shared = [r | {"system": "writer_guided", "same_prompt_as": "writer_plain"} for r in plain
              if r["sample_id"] not in asked]  # fmt: skip
    return plain + guided + shared


def import_replies(
    folder: Path, arm: Arm, records: Sequence[Mapping[str, Any]], writer: str, system: str = "hef"
) -> list[dict[str, Any]]:
    """Read ``<arm>/replies.jsonl`` ({"id", "reply"} lines) as ``writer_<arm>`` records, checked against the key.

    Every exported id must be answered exactly once, each reply cleaned as the graph cleans its own.
    """
    key = json.loads((folder / KEY).read_text(encoding="utf-8"))["arms"][arm]
    by_sample = {r["sample_id"]: r for r in records if r["system"] == system}
    replies: dict[str, str] = {}
    path = folder / arm / "replies.jsonl"
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        entry = json.loads(line)
        if entry.get("id") not in key or entry["id"] in replies or not str(entry.get("reply", "")).strip():
            raise ValueError(f"{path}, line {number}: unknown or repeated id, or an empty reply: {line[:80]!r}")
        replies[entry["id"]] = str(entry["reply"])
    missing = sorted(set(key) - set(replies))
    if missing:
        raise ValueError(f"{path}: no reply for {missing}")
    return [writer_record(by_sample[key[pid]], arm, clean_reply(reply), writer) for pid, reply in replies.items()]


def writer_record(hef: Mapping[str, Any], arm: Arm, reply: str, writer: str) -> dict[str, Any]:
    """A predictions record for an external writer's reply to the same sample as ``hef``."""
    return {"sample_id": hef["sample_id"], "system": f"writer_{arm}", "gold": hef["gold"], "context": hef["context"],
            "reference": hef.get("reference", ""), "with_reply": True, "emotion": None, "reply": reply,
            "writer": writer, "turn_seconds": 0.0, "node_seconds": {}, "llm_calls": 0,
            "generated_tokens": 0}  # fmt: skip
