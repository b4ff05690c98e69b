"""Optional LLM-as-judge: EPITOME-style empathy (ER/IP/EX, 0-2) plus relevance and fluency (1-5), pairwise.

Each pair is shown in a random order (position bias is known) and scored by any LangChain chat model.
No strong judge runs locally here, so `hef eval` does not call this by default.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage

from hef_graph.dialogue import format_dialogue
from hef_graph.llm.runtime import message_text
from hef_graph.prompting import render_prompt

DIMENSIONS = {"emotional_reaction": (0, 2), "interpretation": (0, 2), "exploration": (0, 2),
              "relevance": (1, 5), "fluency": (1, 5)}  # fmt: skip
_JSON = re.compile(r"\{.*\}", re.DOTALL)


@dataclass(frozen=True)
class PairScore:
    """Scores of reply A and reply B (in the caller's order), or None when the judge's answer was unusable."""

    a: dict[str, int] | None
    b: dict[str, int] | None
    a_shown_first: bool


def parse_scores(text: str) -> tuple[dict[str, int], dict[str, int]] | None:
    """Read the judge's JSON; every dimension must be present and in range, else None."""
    match = _JSON.search(text)
    if not match:
        return None
    try:
        data = json.loads(match.group())
        pair = tuple({dim: int(data[side][dim]) for dim in DIMENSIONS} for side in ("A", "B"))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    for scores in pair:
        if any(not low <= scores[dim] <= high for dim, (low, high) in DIMENSIONS.items()):
            return None
    return pair  # type: ignore[return-value]


def judge_pair(
    judge: BaseChatModel, dialogue: Sequence[str], reply_a: str, reply_b: str, rng: random.Random
) -> PairScore:
    """Score two replies to one dialogue, shown in a random order."""
    a_first = rng.random() < 0.5
    first, second = (reply_a, reply_b) if a_first else (reply_b, reply_a)
    prompt = render_prompt("judge_rubric", dialogue=format_dialogue(dialogue), reply_a=first, reply_b=second)
    parsed = parse_scores(message_text(judge.invoke([HumanMessage(prompt)])))
    if parsed is None:
        return PairScore(None, None, a_first)
    shown_first, shown_second = parsed
    return PairScore(*(shown_first, shown_second) if a_first else (shown_second, shown_first), a_shown_first=a_first)


def compare(judge: BaseChatModel, items: Sequence[tuple[Sequence[str], str, str]], seed: int = 0) -> dict[str, Any]:
    """Judge (dialogue, reply of system A, reply of system B) items; mean scores and win rates per dimension."""
    rng = random.Random(seed)
    scores = [judge_pair(judge, dialogue, a, b, rng) for dialogue, a, b in items]
    valid = [s for s in scores if s.a is not None and s.b is not None]
    report: dict[str, Any] = {"pairs": len(scores), "unparsed": len(scores) - len(valid)}
    for dim in DIMENSIONS:
        a = [s.a[dim] for s in valid]  # type: ignore[index]
        b = [s.b[dim] for s in valid]  # type: ignore[index]
        report[dim] = {
            "mean_a": sum(a) / len(a) if a else None,
            "mean_b": sum(b) / len(b) if b else None,
            "a_wins": sum(x > y for x, y in zip(a, b, strict=True)),
            "b_wins": sum(x < y for x, y in zip(a, b, strict=True)),
        }
    return report


def reply_pairs(predictions: Path, data_dir: Path, system_a: str, system_b: str) -> list[tuple[list[str], str, str]]:
    """Collect (dialogue, reply of A, reply of B) for samples where both systems replied."""
    from hef_graph.evaluation.report import load_records
    from hef_graph.sem.data import load_samples

    contexts = {s.sample_id: list(s.context) for s in load_samples(data_dir, "test")}
    replies: dict[str, dict[str, str]] = {}
    for record in load_records(predictions):
        if record.get("reply"):
            replies.setdefault(record["sample_id"], {})[record["system"]] = record["reply"]
    return [(contexts[i], r[system_a], r[system_b]) for i, r in replies.items() if system_a in r and system_b in r]
