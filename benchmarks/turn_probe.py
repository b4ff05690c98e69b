"""Time HEF turns of whatever hef_graph is importable, to compare two commits in alternating processes.

Prints one JSON line: the code's location, each turn's time and draft_response's time, and the replies (so
two versions can be checked to write the same text). To compare a commit with the working tree, check it
out in a worktree (link ``nodes`` and ``prompts`` into its ``hef_graph/``) and alternate:

    for round in 1 2 3; do
      PYTHONPATH=/tmp/old python benchmarks/turn_probe.py > old_$round.json
      python benchmarks/turn_probe.py > new_$round.json
    done
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import hef_graph
from hef_graph import build_graph
from hef_graph.lab.data import default_data_dir, load_samples
from hef_graph.lab.evaluation.systems import as_messages


def main() -> None:
    """Warm up on a dialogue outside the sample, then time each turn node by node."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialogues", type=int, default=50, help="The sample hef_speed.py draws (seed as there).")
    parser.add_argument("--start", type=int, default=12, help="First timed dialogue of that sample.")
    parser.add_argument("--count", type=int, default=18)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    args = parser.parse_args()
    pool = random.Random(args.seed).sample(load_samples(args.data_dir, "test"), args.dialogues)
    graph = build_graph()
    graph.invoke({"messages": [("user", "I just got back from a long trip.")]})
    turns, drafts, replies = [], [], []
    for sample in pool[args.start : args.start + args.count]:
        seconds: dict[str, float] = {}
        state: dict = {}
        last = time.perf_counter()
        for update in graph.stream({"messages": as_messages(sample.context)}, stream_mode="updates"):
            now = time.perf_counter()
            for node, values in update.items():
                seconds[node] = now - last
                state |= values or {}
            last = now
        turns.append(round(sum(seconds.values()), 3))
        drafts.append(round(seconds["draft_response"], 3))
        replies.append(state["reply"])
    print(json.dumps({"code": hef_graph.__file__, "turn_s": turns, "draft_s": drafts, "replies": replies}))


if __name__ == "__main__":
    main()
