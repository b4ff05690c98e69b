"""The pairwise reply judge: a local LLM compares two replies to one dialogue, in both orders, by log-probabilities.

Each pair is shown twice, A/B and B/A, and the judge's preference is read from its log-probabilities of
answering "A" or "B" (no text is parsed). A reply wins only when it is preferred in both orders, so a
judge's position bias turns into ties rather than into wins for whichever reply comes first.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from hef_graph.dialogue import format_dialogue
from hef_graph.llm.letters import LetterScoringRuntime
from hef_graph.prompting import dialogue_prompt

PAIRS = {
    "hef_vs_llm_framed": ("hef", "llm_framed"),
    "hef_vs_llm": ("hef", "llm"),
    "hef_vs_hef_smollm2": ("hef", "hef_smollm2"),
    "writer_guided_vs_writer_plain": ("writer_guided", "writer_plain"),
}
"""The comparisons `hef eval --judge` reports. The headline is HEF against the same LLM framed by HEF's own
prompt without the SEM's notes, which isolates what the SEM adds; then against the LLM alone, HEF on SmolLM2,
and an external writer's replies from HEF's prompts with and without the notes (`hef writer-import`)."""
Outcome = Literal["win", "tie", "loss"]
Z95 = 1.959964


@dataclass(frozen=True)
class PairVerdict:
    """The judge's probability that the first system's reply is better, shown first and shown second."""

    sample_id: str
    pair: str
    shown_first: float
    shown_second: float
    judged: str = ""
    """``fingerprint`` of what was judged; a verdict whose replies have changed since is judged again."""

    @property
    def outcome(self) -> Outcome:
        """Win or loss when both orders agree, else a tie."""
        if self.shown_first > 0.5 and self.shown_second > 0.5:
            return "win"
        if self.shown_first < 0.5 and self.shown_second < 0.5:
            return "loss"
        return "tie"


def preference(judge: LetterScoringRuntime, dialogue: Sequence[str], first: str, second: str) -> float:
    """P(the judge answers "A", i.e. prefers ``first``), normalised over "A" and "B"."""
    messages = dialogue_prompt("judge_pairwise", format_dialogue(dialogue), reply_a=first, reply_b=second)
    letters = judge.letter_log_probs(messages, ["A", "B"])
    return 1.0 / (1.0 + math.exp(letters["B"] - letters["A"]))


def judge_pair(
    judge: LetterScoringRuntime, sample_id: str, pair: str, dialogue: Sequence[str], reply: str, other: str
) -> PairVerdict:
    """Compare ``reply`` with ``other`` in both orders."""
    shown_first = preference(judge, dialogue, reply, other)
    shown_second = 1.0 - preference(judge, dialogue, other, reply)
    return PairVerdict(sample_id, pair, shown_first, shown_second, fingerprint(dialogue, reply, other))


def fingerprint(dialogue: Sequence[str], reply: str, other: str) -> str:
    """A short hash of a dialogue and the two replies compared on it."""
    return hashlib.sha256(json.dumps([list(dialogue), reply, other]).encode()).hexdigest()[:16]


def summarise(verdicts: Sequence[PairVerdict], judge_name: str) -> dict[str, Any]:
    """The judge's win / tie / loss summary, with its mean preference and position bias."""
    summary = outcome_summary([v.outcome for v in verdicts], judge_name)
    n = len(verdicts)
    if n:
        summary["mean_preference"] = round(sum(v.shown_first + v.shown_second for v in verdicts) / (2 * n), 3)
        summary["position_bias"] = round(sum(v.shown_first - v.shown_second for v in verdicts) / (2 * n), 3)
    return summary


def outcome_summary(outcomes: Sequence[Outcome], judge_name: str) -> dict[str, Any]:
    """Win / tie / loss counts with 95% Wilson intervals of each share, and the net win rate with its interval."""
    n = len(outcomes)
    counts = {outcome: sum(o == outcome for o in outcomes) for outcome in ("win", "tie", "loss")}
    summary: dict[str, Any] = {**counts, "n": n, "judge": judge_name}
    if n == 0:
        return summary
    for outcome, count in counts.items():
        summary[f"{outcome}_rate_95ci"] = [round(x, 3) for x in wilson(count, n)]
    win, loss = counts["win"] / n, counts["loss"] / n
    spread = Z95 * math.sqrt(max(win + loss - (win - loss) ** 2, 0.0) / n)
    summary["net_win_rate"] = round(win - loss, 3)
    summary["net_win_rate_95ci"] = [round(win - loss - spread, 3), round(win - loss + spread, 3)]
    return summary


def wilson(count: int, n: int) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion ``count / n``."""
    share = count / n
    centre = (share + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(share * (1 - share) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def replied_records(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """The records that hold a reply and its dialogue, by sample and then by system."""
    by_sample: dict[str, dict[str, dict[str, Any]]] = {}
    for record in records:
        if record.get("reply") and record.get("context"):
            by_sample.setdefault(record["sample_id"], {})[record["system"]] = record
    return by_sample


def judge_replies(
    judge: LetterScoringRuntime, records: list[dict[str, Any]], verdicts_path: Path
) -> dict[str, dict[str, Any]]:
    """Judge every pair of ``PAIRS`` whose two systems replied to the same sample; resumable via ``verdicts_path``.

    A kept verdict is reused only while the dialogue and both replies are the ones it judged, so a rerun
    after a change to one system judges again exactly the pairs whose replies changed. Returns the summary
    of each pair that has verdicts.
    """
    done = load_verdicts(verdicts_path)
    superseded = False
    with verdicts_path.open("a", encoding="utf-8") as out:
        for sample_id, pair, reply, rival in pairs_to_compare(records):
            kept = done.get((sample_id, pair))
            if kept is not None and kept.judged == fingerprint(reply["context"], reply["reply"], rival["reply"]):
                continue
            superseded |= kept is not None
            verdict = judge_pair(judge, sample_id, pair, reply["context"], reply["reply"], rival["reply"])
            done[(sample_id, pair)] = verdict
            out.write(json.dumps(asdict(verdict)) + "\n")
            out.flush()
    if superseded:
        write_verdicts(verdicts_path, done.values())
    return {pair: summarise([v for (_, p), v in done.items() if p == pair], judge.name)
            for pair in PAIRS if any(p == pair for _, p in done)}  # fmt: skip


def pairs_to_compare(records: Iterable[dict[str, Any]]) -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(sample, pair, reply record, rival record) for each pair of ``PAIRS`` whose two systems replied.

    A sample's pairs come one after the other, so the judge's prompts about it share the dialogue's prefill.
    """
    for sample_id, by_system in replied_records(records).items():
        for pair, (system, other) in PAIRS.items():
            if system in by_system and other in by_system:
                yield sample_id, pair, by_system[system], by_system[other]


def write_verdicts(path: Path, verdicts: Iterable[PairVerdict]) -> None:
    """Replace the verdicts file with ``verdicts``, one line each (through a temporary file, so never torn)."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text("".join(json.dumps(asdict(v)) + "\n" for v in verdicts), encoding="utf-8")
    temporary.replace(path)


def load_verdicts(path: Path) -> dict[tuple[str, str], PairVerdict]:
    """Verdicts already written (a torn last line is ignored)."""
    verdicts: dict[tuple[str, str], PairVerdict] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                verdict = PairVerdict(**json.loads(line))
            except (json.JSONDecodeError, TypeError):
                continue
            verdicts[(verdict.sample_id, verdict.pair)] = verdict
    return verdicts
