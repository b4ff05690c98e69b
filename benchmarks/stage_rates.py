"""How often the embedded LLM decides at stage one, reaches stage two, or leaves the SEM's emotion standing.

Runs the full default graph (real SmolLM2 + shipped SEM) on a stratified ED test sample.

Run: python benchmarks/stage_rates.py --per-label 2 --seed 0 --judgement generate --out docs/stage_rates_generate.json
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from hef_graph import Context, build_graph
from hef_graph.sem.data import default_data_dir, load_samples, stratified_sample


def as_messages(context: tuple[str, ...]) -> list[tuple[str, str]]:
    """Turn an ED context into chat messages, the speaker as the user."""
    return [("user" if i % 2 == 0 else "assistant", text) for i, text in enumerate(context)]


def main() -> None:
    """Run the graph over the sample and count who decided."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-label", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--judgement", choices=["auto", "score", "generate"], default="auto")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    samples = stratified_sample(load_samples(args.data_dir, "test"), args.per_label, args.seed)
    graph = build_graph()
    stages: Counter[str] = Counter()
    correct = {"sem_top1": 0, "hef": 0, "gold_in_topk": 0}
    started = time.time()
    for sample in samples:
        out = graph.invoke({"messages": as_messages(sample.context)}, context=Context(judgement=args.judgement))
        stages[out["emotion_stage"]] += 1
        correct["sem_top1"] += out["primary_emotions"][0] == sample.emotion
        correct["hef"] += out["emotion"] == sample.emotion
        correct["gold_in_topk"] += sample.emotion in out["primary_emotions"]
    n = len(samples)
    report = {
        "samples": n,
        "per_label": args.per_label,
        "seed": args.seed,
        "judgement": args.judgement,
        "stage_counts": dict(stages),
        "stage_two_rate": round((stages["fallback"] + stages["sem"]) / n, 3),
        "accuracy": {key: round(value / n, 3) for key, value in correct.items()},
        "seconds_per_turn": round((time.time() - started) / n, 2),
    }
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
