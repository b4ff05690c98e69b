"""How the tagger's word scores become five cause words: decoding policies compared on RECCON-DD (valid by default).

Human cause spans are contiguous and lie inside one utterance, while the plain top five may scatter over
turns. Policies (word scores computed once per target, then decoded each way):

- ``plain``: the five best-scored distinct content words (the shipped decoding);
- ``best_turn``: the turn of the best-scored word first (its words best first), then the rest;
- ``turn_mass``: the turn whose three best words score highest together first, then the rest;
- ``smooth_<a>``: each word's score plus ``a`` times the mean score of its neighbours (two words either side,
  same turn), then plain.

Run: python benchmarks/tune_tagger_decoding.py [--split valid] [--out docs/causes/decoding_valid.json]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from hef_graph.lab.data import default_data_dir
from hef_graph.lab.evaluation.causes import tagger_word_scores
from hef_graph.lab.sem_eval import reccon_cases, span_agreement
from hef_graph.sem.cause_tagger import TaggerInput, top_words
from hef_graph.sem.resident import load_cause_tagger
from hef_graph.sem.words import WordSpan

Scored = list[tuple[float, WordSpan]]
"""Distinct content words (each at its best occurrence) with scores, best first, in the original turns."""


def scored_words(item: TaggerInput, scores: dict[int, float]) -> Scored:
    """Every distinct content word at its best-scored occurrence, best first (the tagger's own ranking)."""
    return [(word.score, word.span) for word in top_words(item, scores, len(scores))]


def turn_first(ranked: Scored, turn: int, n: int) -> list[WordSpan]:
    """The words of ``turn`` best first, then the other words best first."""
    inside = [word for _, word in ranked if word.turn == turn]
    outside = [word for _, word in ranked if word.turn != turn]
    return (inside + outside)[:n]


def plain(ranked: Scored, n: int) -> list[WordSpan]:
    """The best ``n`` words."""
    return [word for _, word in ranked[:n]]


def best_turn(ranked: Scored, n: int) -> list[WordSpan]:
    """The best word's turn first."""
    return turn_first(ranked, ranked[0][1].turn, n) if ranked else []


def turn_mass(ranked: Scored, n: int) -> list[WordSpan]:
    """The turn whose three best words score highest together first."""
    if not ranked:
        return []
    turns = {word.turn for _, word in ranked}
    mass = {turn: sum(sorted((s for s, w in ranked if w.turn == turn), reverse=True)[:3]) for turn in turns}
    return turn_first(ranked, max(mass, key=mass.__getitem__), n)


def smoothed(weight: float) -> Callable[[Scored, int], list[WordSpan]]:
    """Scores plus ``weight`` times the neighbours' mean, then the best ``n``."""

    def decode(ranked: Scored, n: int) -> list[WordSpan]:
        by_turn: dict[int, list[tuple[float, WordSpan]]] = {}
        for score, word in ranked:
            by_turn.setdefault(word.turn, []).append((score, word))
        rescored = []
        for words in by_turn.values():
            words.sort(key=lambda pair: pair[1].start)
            for i, (score, word) in enumerate(words):
                neighbours = [s for s, _ in words[max(0, i - 2) : i] + words[i + 1 : i + 3]]
                bonus = sum(neighbours) / len(neighbours) if neighbours else 0.0
                rescored.append((score + weight * bonus, word))
        return plain(sorted(rescored, key=lambda pair: -pair[0]), n)

    return decode


POLICIES = {"plain": plain, "best_turn": best_turn, "turn_mass": turn_mass,
            "smooth_0.25": smoothed(0.25), "smooth_0.5": smoothed(0.5), "smooth_1": smoothed(1.0)}  # fmt: skip


def main() -> None:
    """Score every policy on the split and print (and optionally write) the agreement table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="valid")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--words", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    cases = reccon_cases(args.data_dir or default_data_dir(), args.split)
    tagger = load_cause_tagger(device="cpu")
    ranked = [
        scored_words(TaggerInput.of(case.turns, case.target), scores)
        for case, scores in zip(cases, tagger_word_scores(tagger, cases), strict=True)
    ]
    report = {"split": args.split, "targets": len(cases), "words": args.words, "policies": {}}
    for name, decode in POLICIES.items():
        picked = [decode(words, args.words) for words in ranked]
        report["policies"][name] = span_agreement(cases, picked, ks=(1, 3, 5))
        print(
            f"{name:12s} F1 {report['policies'][name]['f1']:.3f}  P {report['policies'][name]['precision']:.3f}"
            f"  R {report['policies'][name]['recall']:.3f}  span overlap {report['policies'][name]['span_overlap']:.3f}"
        )
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
