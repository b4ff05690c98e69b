"""SEM speed: batched throughput (emotion only; emotion + cause words) and single-dialogue latency.

Run: python benchmarks/sem_speed.py --device cpu --out docs/sem/speed_cpu.json
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import time
from pathlib import Path

import torch

from hef_graph.devices import best_device
from hef_graph.lab.data import default_data_dir, load_samples
from hef_graph.lab.metrics import nearest_rank_percentile
from hef_graph.sem.resident import load_sem


def timed(function, repeats: int) -> list[float]:
    """Return the wall time of each of ``repeats`` calls."""
    durations = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        durations.append(time.perf_counter() - started)
    return durations


def main() -> None:
    """Measure and print (and optionally save) the SEM's speed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=best_device())
    parser.add_argument("--dialogues", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    sem = load_sem(device=args.device)
    samples = random.Random(args.seed).sample(load_samples(args.data_dir, "test"), args.dialogues)
    dialogues = [list(s.context) for s in samples]
    sem.predict_proba(dialogues[:8])  # warm-up

    def analyze_all() -> None:
        for begin in range(0, len(dialogues), 8):
            sem.analyze(dialogues[begin : begin + 8])

    emotion = statistics.median(timed(lambda: sem.predict_proba(dialogues, batch_size=32), 3))
    causes = statistics.median(timed(analyze_all, 1))
    single = timed(lambda: sem.predict_proba(dialogues[:1]), 50)
    single_causes = [timed(lambda d=d: sem.analyze([d]), 1)[0] for d in dialogues[:30]]
    report = {
        "device": args.device if args.device == "cpu" else torch.cuda.get_device_name(0),
        "cpu": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "dialogues": len(dialogues),
        "seed": args.seed,
        "emotion_only_dialogues_per_s": round(len(dialogues) / emotion, 1),
        "emotion_and_causes_dialogues_per_s": round(len(dialogues) / causes, 1),
        "single_emotion_latency_ms_median": round(1000 * statistics.median(single), 1),
        "single_emotion_and_causes_latency_ms_median": round(1000 * statistics.median(single_causes), 1),
        "single_emotion_and_causes_latency_ms_p95": round(1000 * nearest_rank_percentile(single_causes, 0.95), 1),
    }
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
