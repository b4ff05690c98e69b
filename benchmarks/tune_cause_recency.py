"""Choose the cause words' recency weight on RECCON-DD *valid* (test stays for reporting).

Integrated-gradients word scores are computed once per target (toward its gold emotion, as in
`hef eval-sem`); then each recency weight re-ranks them (score * weight ** turns_back, positive evidence
only, top 5) and is scored against the human cause spans. Random words drawn with the same recency
weighting show how much of the gain the position prior alone explains.

Run: python benchmarks/tune_cause_recency.py --out docs/sem/tune_cause_recency.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hef_graph.lab.data import default_data_dir
from hef_graph.lab.evaluation.causes import pick_recency_random
from hef_graph.lab.sem_eval import CauseCase, reccon_cases, run_picker, span_agreement
from hef_graph.sem.classifier import EmotionClassifier
from hef_graph.sem.resident import load_sem
from hef_graph.sem.words import WordSpan

RECENCY = (1.0, 0.7, 0.5, 0.3, 0.15)
WORDS = 5


def word_scores(cases: list[CauseCase]) -> list[list[tuple[float, WordSpan]]]:
    """Every content word with positive summed IG score (no recency weighting yet), for each case."""
    sem = load_sem()
    flat = EmotionClassifier(sem.members, labels=sem.labels, cause_recency=1.0)
    scored = []
    for begin in range(0, len(cases), 8):
        chunk = cases[begin : begin + 8]
        analyses = flat.analyze([c.turns for c in chunk], n=10**6, targets=[c.target for c in chunk])
        for analysis in analyses:
            scored.append([(c.score, WordSpan(c.word, c.turn, c.start, c.end)) for c in analysis.causes])
    return scored


def rerank(case: CauseCase, scored: list[tuple[float, WordSpan]], recency: float) -> list[WordSpan]:
    """Top words after the recency weighting (each word's best occurrence, as the SEM returns them)."""
    last = len(case.turns) - 1
    best: dict[str, tuple[float, WordSpan]] = {}
    for score, span in scored:
        weighted = score * recency ** (last - span.turn)
        if span.text.lower() not in best or weighted > best[span.text.lower()][0]:
            best[span.text.lower()] = (weighted, span)
    return [span for _, span in sorted(best.values(), key=lambda item: -item[0])[:WORDS]]


def main() -> None:
    """Score once, re-rank for every recency weight, compare with recency-weighted random words."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    cases = reccon_cases(args.data_dir, "valid")
    scored = word_scores(cases)
    report: dict = {"split": "valid", "cases": len(cases), "words": WORDS, "seed": args.seed}
    for recency in RECENCY:
        ours = [rerank(case, words, recency) for case, words in zip(cases, scored, strict=True)]
        report[f"integrated_gradients@{recency}"] = span_agreement(cases, ours, ks=(1, 3, 5))
        randoms = run_picker(pick_recency_random(args.seed, recency), None, cases, WORDS)  # type: ignore[arg-type]
        report[f"random@{recency}"] = span_agreement(cases, randoms, (1, 3, 5))
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
