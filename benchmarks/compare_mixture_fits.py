"""How to weigh the SEM's parts: the previous grid search against the likelihood fit, by 5-fold CV on ED *valid*.

Both are fit on four folds of valid and scored on the fifth, with the shipped SEM's parts (test stays
for reporting). The grid is the one used before: speaker view 0-0.75 (convex with the whole context,
encoders averaged) x lexical 0-1.3 x frozen 0-0.8, maximising the mean of top-1 and top-3. The likelihood
fit (`hef_graph.lab.train_sem.likelihood_mixture`) weighs each encoder on its own.

Run: python benchmarks/compare_mixture_fits.py --out docs/sem/compare_mixture_fits.json
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from hef_graph.lab.data import default_data_dir, load_samples
from hef_graph.lab.metrics import top_k_accuracy
from hef_graph.lab.train_sem import likelihood_mixture
from hef_graph.labels import EMOTIONS
from hef_graph.sem.mixture import Mixture
from hef_graph.sem.resident import load_sem

GRID = list(itertools.product((0.0, 0.25, 0.5, 0.75), (0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.3), (0.0, 0.2, 0.4, 0.6, 0.8)))
FOLDS = 5


def subset(parts: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    """The parts of some samples only."""
    return {name: part[:, rows] if name == "members" else part[rows] for name, part in parts.items()}


def grid_mixture(sem, parts: dict[str, np.ndarray], gold: np.ndarray) -> Mixture:
    """The previous method: the grid point with the best mean of top-1 and top-3."""

    def score(point: tuple[float, float, float]) -> float:
        mixed = sem.mix(parts, Mixture((), *point))
        return top_k_accuracy(mixed, gold, 1) + top_k_accuracy(mixed, gold, 3)

    return Mixture((), *max(GRID, key=score))


def main() -> None:
    """Fit both ways on each fold's training part; report held-out accuracy per fold and on average."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    sem = load_sem()
    valid = load_samples(args.data_dir, "valid")
    parts = sem.parts([list(s.context) for s in valid], every=True)
    gold = np.array([EMOTIONS.index(s.emotion) for s in valid])
    folds = np.random.default_rng(args.seed).permutation(len(gold)) % FOLDS
    fitters = {"grid (previous)": lambda p, g: grid_mixture(sem, p, g), "likelihood (shipped)": likelihood_mixture}
    report: dict = {"split": "valid", "samples": len(gold), "folds": FOLDS, "seed": args.seed}
    for name, fit in fitters.items():
        per_fold = []
        for fold in range(FOLDS):
            train, held = np.where(folds != fold)[0], np.where(folds == fold)[0]
            mixed = sem.mix(subset(parts, held), fit(subset(parts, train), gold[train].tolist()))
            per_fold.append([top_k_accuracy(mixed, gold[held], 1), top_k_accuracy(mixed, gold[held], 3)])
        report[name] = {"top1": float(np.mean([f[0] for f in per_fold])),
                        "top3": float(np.mean([f[1] for f in per_fold])), "per_fold_top1_top3": per_fold}  # fmt: skip
        print(name, json.dumps(report[name]), flush=True)
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
