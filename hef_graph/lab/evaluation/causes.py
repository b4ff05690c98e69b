"""`hef eval-causes`: how well each way of choosing cause words agrees with human cause spans (RECCON-DD).

Every method picks the same number of distinct content words per target, scored against the content words
of the human spans (``lab.sem_eval.span_agreement``). Baselines: random words, random words drawn with the
recency weighting of the SEM's attribution prior, the last turn's words, last-layer attention and the SEM's
integrated gradients. The tagger's cost per dialogue is timed on ED test dialogues, one at a time.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hef_graph.lab.data import load_samples
from hef_graph.lab.sem_eval import (
    CauseCase,
    Picker,
    content_words,
    distinct_words,
    pick_attention,
    pick_integrated_gradients,
    pick_random,
    reccon_cases,
    run_picker,
    span_agreement,
)
from hef_graph.sem.attribution import CAUSE_RECENCY
from hef_graph.sem.cause_tagger import CauseTagger, TaggerInput
from hef_graph.sem.classifier import EmotionClassifier
from hef_graph.sem.words import WordSpan


def pick_tagger(tagger: CauseTagger) -> Picker:
    """The cause tagger's words for each target's emotion."""

    def pick(sem: EmotionClassifier, dialogues: list[list[str]], targets: list[str], n: int) -> list[list[WordSpan]]:
        return [[word.span for word in row] for row in tagger.tag_many(dialogues, targets, n)]

    return pick


def tagger_word_scores(tagger: CauseTagger, cases: Sequence[CauseCase], batch: int = 8) -> list[dict[int, float]]:
    """The tagger's word scores for each case's emotion, by word index of its reversed dialogue, in batches."""
    inputs = [TaggerInput.of(case.turns, case.target) for case in cases]
    return [
        scores for begin in range(0, len(inputs), batch) for scores in tagger.word_scores(inputs[begin : begin + batch])
    ]


def pick_recency_random(seed: int, recency: float = CAUSE_RECENCY) -> Picker:
    """Random distinct content words, each drawn with weight ``recency ** turns_back`` (the attribution's prior)."""
    rng = np.random.default_rng(seed)

    def pick(sem: EmotionClassifier, dialogues: list[list[str]], targets: list[str], n: int) -> list[list[WordSpan]]:
        picked = []
        for turns in dialogues:
            words = distinct_words(latest_first(content_words(turns)))  # a repeated word counts at its latest
            weights = np.array([recency ** (len(turns) - 1 - w.turn) for w in words])
            chosen = rng.choice(len(words), size=min(n, len(words)), replace=False, p=weights / weights.sum())
            picked.append([words[i] for i in chosen])
        return picked

    return pick


def pick_last_turn(sem: EmotionClassifier, dialogues: list[list[str]], targets: list[str], n: int):
    """The last turn's content words in order, then the turn before's, until ``n`` distinct words."""
    picked = []
    for turns in dialogues:
        picked.append(distinct_words(latest_first(content_words(turns)), n))
    return picked


def latest_first(words: list[WordSpan]) -> list[WordSpan]:
    """Words of the latest turn first (in reading order), then the turn before's, and so on."""
    return sorted(words, key=lambda w: (-w.turn, w.start))


def tagger_latency(tagger: CauseTagger, dialogues: list[list[str]], emotions: list[str], n: int) -> dict[str, float]:
    """Median and p95 seconds of one tagging call per dialogue (after one warm-up call)."""
    tagger.tag(dialogues[0], emotions[0], n)
    times = []
    for turns, emotion in zip(dialogues, emotions, strict=True):
        started = time.perf_counter()
        tagger.tag(turns, emotion, n)
        times.append(time.perf_counter() - started)
    return {"dialogues": len(times), "p50_ms": 1000 * statistics.median(times),
            "p95_ms": 1000 * float(np.percentile(times, 95))}  # fmt: skip


def evaluate_causes(
    sem: EmotionClassifier,
    tagger: CauseTagger,
    data_dir: Path,
    split: str = "test",
    n: int = 5,
    seed: int = 0,
    timing_sample: int = 200,
    limit: int | None = None,
    only: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Score the methods on the split's RECCON targets and time the tagger on ED dialogues of the split.

    ``only`` names the methods to score besides the tagger and the two baselines its margin is taken over
    (the slow integrated gradients can be left out when comparing taggers).
    """
    cases: list[CauseCase] = reccon_cases(data_dir, split)[:limit]
    methods: dict[str, Picker] = {
        "tagger": pick_tagger(tagger),
        "integrated_gradients": pick_integrated_gradients,
        "attention": pick_attention,
        "last_turn": pick_last_turn,
        "recency_random": pick_recency_random(seed),
        "random": pick_random(seed),
    }
    baselines = ("recency_random", "last_turn")
    if only is not None:
        unknown = set(only) - set(methods)
        if unknown:
            raise ValueError(f"unknown method(s) {sorted(unknown)}: choose from {sorted(methods)}")
        methods = {name: picker for name, picker in methods.items() if name in {"tagger", *baselines, *only}}
    report: dict[str, Any] = {"split": split, "targets": len(cases), "words": n, "seed": seed, "methods": {}}
    for name, picker in methods.items():
        report["methods"][name] = span_agreement(cases, run_picker(picker, sem, cases, n), ks=(1, 3, 5))
    samples = random.Random(seed).sample(load_samples(data_dir, split), timing_sample)[:limit]
    report["tagger_latency"] = tagger_latency(
        tagger, [list(s.context) for s in samples], [s.emotion for s in samples], n
    )
    best = max(report["methods"][b]["f1"] for b in baselines)
    report["tagger_margin_over_best_baseline"] = report["methods"]["tagger"]["f1"] - best
    return report


def markdown_report(report: dict[str, Any]) -> str:
    """The report as a markdown table, best F1 first."""
    lines = [
        f"## Cause words, top {report['words']}, against human spans (RECCON-DD {report['split']}, "
        f"{report['targets']} targets, seed {report['seed']})",
        "",
        "| method | precision | recall | F1 | span overlap | recall@1 | hit@1 | hit@3 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in sorted(report["methods"].items(), key=lambda item: -item[1]["f1"]):
        lines.append(
            f"| {name} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | "
            f"{r['span_overlap']:.3f} | {r['recall@1']:.3f} | {r['hit@1']:.3f} | {r['hit@3']:.3f} |"
        )
    latency = report["tagger_latency"]
    lines += [
        "",
        f"Tagger margin over the best of recency-weighted random and last turn: "
        f"{report['tagger_margin_over_best_baseline']:+.3f} F1.",
        f"Tagger time per dialogue ({latency['dialogues']} ED {report['split']} dialogues, one at a time): "
        f"median {latency['p50_ms']:.1f} ms, p95 {latency['p95_ms']:.1f} ms.",
    ]
    return "\n".join(lines) + "\n"
