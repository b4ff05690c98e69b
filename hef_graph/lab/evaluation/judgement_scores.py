"""Scores of the judgement arms on one sample, with bootstrap intervals, and the combination's tuning.

Each arm gives a ranking per sample, best first: the SEM its three most likely labels; the LLM's own
ranked answer its three labels; the combination the three best of its posterior; the LLM alone and HEF's
stages one label (their top-3 is not defined and is reported as n/a). An arm's answer that was not as
asked counts as the graph would use it: the LLM alone and the LLM's own ranking give no label (wrong);
HEF's stage one goes to stage two and an unusable stage two leaves the SEM's top-1; the combination falls
back to the SEM's distribution.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hef_graph.judging import ranked_posterior
from hef_graph.lab.evaluation.judgement import (
    Answer,
    JudgementPacketError,
    KeyItem,
    load_answers,
    needs_stage_two,
    read_key,
)
from hef_graph.labels import NONE_OF_THESE, VALENCE
from hef_graph.ranking import RankedAnswer

Rankings = dict[str, tuple[str, ...]]
"""Each sample's labels, best first (empty: no answer)."""
WEIGHTS = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
FLOORS = (0.001, 0.003, 0.01, 0.03)
RESAMPLES = 2000


@dataclass(frozen=True)
class Combination:
    """The combination's settings, chosen on ED valid (``hef judge tune``)."""

    weight: float
    floor: float


def answered(folder: Path) -> tuple[list[KeyItem], dict[int, Answer]]:
    """A packet's items and their checked answers (run ``hef judge import`` first)."""
    _, items = read_key(folder)
    return items, load_answers(folder)


def sem_rankings(items: Sequence[KeyItem]) -> Rankings:
    """The SEM's three most likely labels per sample."""
    return {item.sample_id: tuple(sorted(item.sem, key=lambda label: -item.sem[label])[:3]) for item in items}


def own_rankings(folder: Path) -> Rankings:
    """The LLM's own labels per sample, as answered (single-label arms: one; own_top3: three)."""
    items, answers = answered(folder)
    return {item.sample_id: answers[item.number].labels if answers[item.number].valid else () for item in items}


def hef_rankings(stage_one: Path, stage_two: Path | None) -> Rankings:
    """HEF's final label per sample: stage one's choice, else stage two's, else the SEM's top-1 (the graph's rule)."""
    items, answers = answered(stage_one)
    second = own_rankings(stage_two) if stage_two else {}
    rankings: Rankings = {}
    for item in items:
        answer = answers[item.number]
        if not needs_stage_two(answer):
            rankings[item.sample_id] = answer.labels
        elif item.sample_id not in second and stage_two is None:
            raise JudgementPacketError(f"{item.sample_id} needs stage two: give its folder (--fallback)")
        else:
            top1 = max(item.sem, key=item.sem.__getitem__)
            rankings[item.sample_id] = second.get(item.sample_id) or (top1,)
    return rankings


def combined_rankings(folder: Path, combination: Combination) -> Rankings:
    """The three best labels of the SEM combined with the LLM's own ranked answer (invalid: the SEM's)."""
    items, answers = answered(folder)
    rankings: Rankings = {}
    for item in items:
        answer = answers[item.number]
        if not answer.valid:
            rankings[item.sample_id] = sem_rankings([item])[item.sample_id]
            continue
        posterior = posterior_of(item, answer, combination)
        rankings[item.sample_id] = tuple(sorted(posterior, key=lambda label: -posterior[label])[:3])
    return rankings


def posterior_of(item: KeyItem, answer: Answer, combination: Combination) -> dict[str, float]:
    """The combination's posterior for one item (``hef_graph.judging.ranked_posterior``, as the graph computes it)."""
    ranked = RankedAnswer(answer.labels, answer.confidences, answer.problems)
    return ranked_posterior(item.sem, ranked, combination.weight, combination.floor)


def tune(folder: Path, weights: Sequence[float] = WEIGHTS, floors: Sequence[float] = FLOORS) -> dict[str, Any]:
    """Choose the combination's weight and floor on an ED *valid* own_top3 packet.

    The best top-1 wins; ties go to the higher mean log-probability of the gold label.
    """
    key, items = read_key(folder)
    if key.get("split") != "valid" or key.get("arm") != "own_top3":
        raise JudgementPacketError(f"tune on a valid own_top3 packet, not {key.get('split')} {key.get('arm')}")
    answers = load_answers(folder)
    usable = [(item, answers[item.number]) for item in items if answers[item.number].valid]
    if not usable:
        raise JudgementPacketError(f"{folder}: no valid answer to tune on (run hef judge import)")
    grid = [grid_point(usable, Combination(w, f)) for w in weights for f in floors]
    best = max(grid, key=lambda point: (point["top1"], point["mean_log_p_gold"]))
    return {"split": "valid", "seed": key.get("seed"), "samples": len(items), "valid_answers": len(usable),
            "weight": best["weight"], "floor": best["floor"], "top1": best["top1"], "grid": grid}  # fmt: skip


def grid_point(usable: Sequence[tuple[KeyItem, Answer]], combination: Combination) -> dict[str, Any]:
    """Top-1 and the gold label's mean log-probability at one setting."""
    posteriors = [(item.gold, posterior_of(item, answer, combination)) for item, answer in usable]
    top1 = sum(max(p, key=p.__getitem__) == gold for gold, p in posteriors) / len(posteriors)
    log_p = sum(math.log(max(p[gold], 1e-12)) for gold, p in posteriors) / len(posteriors)
    return {"weight": combination.weight, "floor": combination.floor, "top1": round(top1, 4),
            "mean_log_p_gold": round(log_p, 4)}  # fmt: skip


def read_combination(path: Path) -> Combination:
    """The settings ``hef judge tune`` chose, refusing any not tuned on valid."""
    tuned = json.loads(path.read_text(encoding="utf-8"))
    if tuned.get("split") != "valid":
        raise JudgementPacketError(f"{path}: the combination must be tuned on ED valid")
    return Combination(float(tuned["weight"]), float(tuned["floor"]))


Metric = Callable[[tuple[str, ...], str], float]
METRICS: dict[str, Metric] = {
    "top1": lambda ranking, gold: float(bool(ranking) and ranking[0] == gold),
    "top3": lambda ranking, gold: float(gold in ranking[:3]),
    "valence": lambda ranking, gold: float(bool(ranking) and VALENCE.get(ranking[0]) == VALENCE[gold]),
}
RANKING_ARMS = ("sem", "own_top3", "combination")
"""Arms that rank three labels; the others answer one, so their top-3 is not defined."""


def score(arms: Mapping[str, Rankings], gold: Mapping[str, str], pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Each arm's metrics with 95% bootstrap intervals, and paired differences between ``pairs`` of arms."""
    ids = sorted(gold)
    for name, rankings in arms.items():
        if set(rankings) != set(ids):
            raise JudgementPacketError(f"arm {name} covers {len(rankings)} samples, not the {len(ids)} of the others")
    draws = bootstrap_draws(len(ids))
    table = {name: {"n": len(ids), "no_answer": sum(not rankings[i] for i in ids)} for name, rankings in arms.items()}
    for name, rankings in arms.items():
        for metric in METRICS:
            if metric == "top3" and name not in RANKING_ARMS:
                table[name][metric] = None
                continue
            values = [METRICS[metric](rankings[i], gold[i]) for i in ids]
            table[name][metric] = with_interval(values, draws)
    differences = {
        f"{a} - {b}": {m: paired_difference(arms[a], arms[b], gold, ids, m, draws) for m in compared(a, b)}
        for a, b in pairs
        if a in arms and b in arms
    }
    return {"samples": len(ids), "arms": table, "differences": differences}


def compared(first: str, second: str) -> tuple[str, ...]:
    """The metrics two arms share: top-3 only where both rank three labels."""
    both_rank = first in RANKING_ARMS and second in RANKING_ARMS
    return ("top1", "valence", "top3") if both_rank else ("top1", "valence")


def bootstrap_draws(n: int, resamples: int = RESAMPLES, seed: int = 0) -> list[list[int]]:
    """The same resamples of the items for every arm, so differences are paired."""
    rng = random.Random(seed)
    return [[rng.randrange(n) for _ in range(n)] for _ in range(resamples)]


def with_interval(values: Sequence[float], draws: Sequence[Sequence[int]]) -> dict[str, Any]:
    """The mean and its 95% percentile bootstrap interval."""
    means = sorted(sum(values[i] for i in draw) / len(draw) for draw in draws)
    low, high = means[int(0.025 * len(means))], means[int(0.975 * len(means)) - 1]
    return {"value": round(sum(values) / len(values), 4), "ci95": [round(low, 4), round(high, 4)]}


def paired_difference(
    first: Rankings, second: Rankings, gold: Mapping[str, str], ids: Sequence[str], metric: str,
    draws: Sequence[Sequence[int]],
) -> dict[str, Any]:  # fmt: skip
    """``first``'s metric minus ``second``'s on the same samples, with its paired 95% interval."""
    values = [METRICS[metric](first[i], gold[i]) - METRICS[metric](second[i], gold[i]) for i in ids]
    return with_interval(values, draws)


def markdown(scores: Mapping[str, Any]) -> str:
    """The scores as two tables: each arm, then the paired differences (in points)."""

    def cell(entry: Mapping[str, Any] | None) -> str:
        if entry is None:
            return "n/a"
        low, high = entry["ci95"]
        return f"{100 * entry['value']:.1f}% [{100 * low:.1f}, {100 * high:.1f}]"

    lines = ["| arm | n | top-1 | top-3 | valence agreement | no answer |", "|---|---:|---:|---:|---:|---:|"]
    for name, m in scores["arms"].items():
        lines.append(f"| {name} | {m['n']} | {cell(m['top1'])} | {cell(m['top3'])} | {cell(m['valence'])} | "
                     f"{m['no_answer']} |")  # fmt: skip
    lines += ["", "| difference (paired) | top-1 (points) | top-3 (points) | valence (points) |",
              "|---|---:|---:|---:|"]  # fmt: skip
    for name, d in scores["differences"].items():
        points = {k: f"{100 * v['value']:+.1f} [{100 * v['ci95'][0]:+.1f}, {100 * v['ci95'][1]:+.1f}]"
                  for k, v in d.items()}  # fmt: skip
        lines.append(f"| {name} | {points['top1']} | {points.get('top3', 'n/a')} | {points['valence']} |")
    return "\n".join(lines) + "\n"


def stage_counts(stage_one: Path) -> dict[str, int]:
    """How HEF's stage one answered: a primary label, none, or unusable."""
    _, answers = answered(stage_one)
    valid = [a for a in answers.values() if a.valid]
    none = sum(a.labels[0] == NONE_OF_THESE for a in valid)
    return {"primary": len(valid) - none, "none": none, "unusable": len(answers) - len(valid)}
