"""The ranked judgement: the LLM's own top three with confidences, combined with the SEM in log space.

A strong LLM shown the SEM's top-k tends to pick among them (it anchors), so this design never shows it the
SEM: it ranks its own three most likely labels over all 32, each with a confidence, and the two readings are
combined afterwards as a product of experts, ``log p = log p_sem + weight * log q_llm``, where ``q_llm`` is
the LLM's answer as a distribution over the labels:

- each named label gets its stated confidence (confidences summing above 1 are scaled to sum to 1);
- every other label gets an equal share of the mass the LLM left unstated, ``(1 - sum) / unnamed``;
- no label gets less than ``floor``, so a label the LLM did not name is unlikely but not impossible.

At weight 0 the choice is the SEM's top-1; as the weight grows it becomes the LLM's own ranking, the SEM
breaking ties among the labels the LLM did not name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hef_graph.labels import EMOTIONS, canonical_label

RANKED_LABELS = 3
"""How many labels the LLM is asked to rank."""
SUM_TOLERANCE = 0.01
"""How far above 1 stated confidences may sum before the answer is reported as inconsistent."""
_SEPARATOR = re.compile(r"[;\n]+|,(?=\s*[a-zA-Z])")
_ENTRY = re.compile(r"^\W*(?:\d+\s*[.)]\s*)?([A-Za-z]+)[^A-Za-z0-9.]*?(\d*\.?\d+)\s*(%?)\W*$")


@dataclass(frozen=True)
class RankedAnswer:
    """An LLM's ranked answer as read: its labels best first, their confidences, and what was wrong with it.

    ``problems`` is empty when the answer is exactly as asked (three distinct labels, each with a confidence
    between 0 and 1, summing to at most 1). The graph uses any answer that names a label; an evaluation
    uses only answers without problems.
    """

    labels: tuple[str, ...]
    confidences: tuple[float, ...]
    problems: tuple[str, ...]

    @property
    def usable(self) -> bool:
        """Whether the answer names at least one label to combine with the SEM."""
        return bool(self.labels)


def parse_ranked(text: str, allowed: Sequence[str] = EMOTIONS) -> RankedAnswer:
    """Read ``label confidence`` entries separated by semicolons or lines (``sad 0.6; lonely 0.3; ...``).

    An inflected or aliased label is read as its ED label and reported; a percentage counts as a share.
    """
    labels: list[str] = []
    confidences: list[float] = []
    problems: list[str] = []
    for entry in (part.strip() for part in _SEPARATOR.split(text)):
        if not entry:
            continue
        read = _read_entry(entry, allowed, problems)
        if read is not None and read[0] in labels:
            problems.append(f"{read[0]!r} is named twice")
        elif read is not None:
            labels.append(read[0])
            confidences.append(read[1])
    problems += _consistency_problems(confidences)
    return RankedAnswer(tuple(labels), tuple(confidences), tuple(problems))


def _read_entry(entry: str, allowed: Sequence[str], problems: list[str]) -> tuple[str, float] | None:
    """One ``label confidence`` entry, or None (with the reason added to ``problems``)."""
    match = _ENTRY.match(entry)
    if not match:
        problems.append(f"{entry!r} is not 'label confidence'")
        return None
    word, number, percent = match.group(1).lower(), float(match.group(2)), match.group(3)
    label = canonical_label(word)
    if label is None or label not in allowed:
        problems.append(f"{word!r} is not one of the labels")
        return None
    if label != word:
        problems.append(f"{word!r} is not a label as written (read as {label!r})")
    confidence = number / 100 if percent else number
    if not 0 <= confidence <= 1:
        problems.append(f"{label}'s confidence {number:g}{percent} is not between 0 and 1")
        return None
    return label, confidence


def _consistency_problems(confidences: Sequence[float]) -> list[str]:
    """What is wrong with the entries taken together: their count and their sum."""
    problems = []
    if len(confidences) != RANKED_LABELS:
        problems.append(f"{len(confidences)} labels read, {RANKED_LABELS} asked")
    if sum(confidences) > 1 + SUM_TOLERANCE:
        problems.append(f"the confidences sum to {sum(confidences):.2f}, more than 1")
    if list(confidences) != sorted(confidences, reverse=True):
        problems.append("the labels are not ranked best first by their confidences")
    return problems


def own_distribution(answer: RankedAnswer, floor: float, labels: Sequence[str] = EMOTIONS) -> dict[str, float]:
    """``q_llm``: the stated confidences on the named labels, the unstated mass shared by the rest, floored."""
    total = sum(answer.confidences)
    scale = 1 / total if total > 1 else 1.0
    stated = {label: c * scale for label, c in zip(answer.labels, answer.confidences, strict=True)}
    unnamed = [label for label in labels if label not in stated]
    share = (1 - sum(stated.values())) / len(unnamed) if unnamed else 0.0
    raw = {label: max(stated.get(label, share), floor) for label in labels}
    norm = sum(raw.values())
    return {label: q / norm for label, q in raw.items()}


def combine_ranked(
    log_prior: Mapping[str, float], answer: RankedAnswer, weight: float, floor: float
) -> dict[str, float]:
    """The posterior ``p ∝ p_sem * q_llm ** weight`` over the labels of ``log_prior`` (the SEM's, floored)."""
    own = own_distribution(answer, floor, list(log_prior))
    scores = {label: value + weight * math.log(own[label]) for label, value in log_prior.items()}
    best = max(scores.values())
    total = sum(math.exp(s - best) for s in scores.values())
    return {label: math.exp(s - best) / total for label, s in scores.items()}
