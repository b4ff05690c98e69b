"""Choose the number of integrated-gradients steps on *valid* data: cause-word quality against cost.

Each setting is timed on one dialogue at a time (the graph's per-turn call, median of the sample) and
scored on RECCON-DD valid (agreement with human cause spans) and on an ED valid sample (ERASER), the
measures `hef eval-sem` reports on test. The top-5 overlap with a 32-step reference shows how close
each setting's ranking stays to a finer integral.

Run: python benchmarks/tune_ig_steps.py --out docs/sem/tune_ig_steps.json
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

import torch

from hef_graph.lab.data import default_data_dir, load_samples
from hef_graph.lab.sem_eval import ed_cases, eraser, pick_integrated_gradients, reccon_cases, run_picker, span_agreement
from hef_graph.sem.resident import load_sem

STEPS = (2, 4, 8)
REFERENCE_STEPS = 32
WORDS = 5


def single_dialogue_seconds(sem, dialogues: list[list[str]]) -> float:
    """Median seconds of one emotion + cause-words call per dialogue (after one warm-up call)."""
    sem.analyze([dialogues[0]], n=WORDS)
    times = []
    for dialogue in dialogues:
        started = time.perf_counter()
        sem.analyze([dialogue], n=WORDS)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def overlap(ours: list, reference: list) -> float:
    """Mean share of the reference's top words that a setting also picks."""
    shares = []
    for mine, theirs in zip(ours, reference, strict=True):
        wanted = {w.text.lower() for w in theirs}
        shares.append(len(wanted & {w.text.lower() for w in mine}) / len(wanted) if wanted else 1.0)
    return sum(shares) / len(shares)


def main() -> None:
    """Time and score every setting side by side in one run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--eraser-sample", type=int, default=300)
    parser.add_argument("--timing-sample", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    sem = load_sem()
    shipped = sem.ig_steps
    reccon = reccon_cases(args.data_dir, "valid")
    samples = random.Random(args.seed).sample(load_samples(args.data_dir, "valid"), args.eraser_sample)
    ed = ed_cases(sem, samples)
    timing = [list(s.context) for s in samples[: args.timing_sample]]
    report: dict = {"split": "valid", "reccon_cases": len(reccon), "eraser_cases": len(ed), "seed": args.seed,
                    "torch_threads": torch.get_num_threads(), "shipped_steps": shipped}  # fmt: skip
    sem.ig_steps = REFERENCE_STEPS
    reference = run_picker(pick_integrated_gradients, sem, reccon, WORDS)
    for steps in STEPS:
        sem.ig_steps = steps
        picked = run_picker(pick_integrated_gradients, sem, reccon, WORDS)
        report[f"steps={steps}"] = {
            "single_dialogue_s": round(single_dialogue_seconds(sem, timing), 4),
            "reccon": span_agreement(reccon, picked, ks=(1, 3, 5)),
            "overlap_with_32_steps": overlap(picked, reference),
            "eraser": eraser(sem, ed, run_picker(pick_integrated_gradients, sem, ed, WORDS)),
        }
        print(steps, json.dumps(report[f"steps={steps}"]), flush=True)
    sem.ig_steps = shipped
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
