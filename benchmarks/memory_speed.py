"""Emotional memory's cost per turn: recall before the reply plus the record after it, median over turns.

What a turn with memory on adds to one without (issue 29 asks for at most 30 ms at the median): the two
memory nodes' work, timed directly: ``recall`` (embed this turn's cause phrase, search the person's items,
rank) + ``memory_note`` + ``record`` (embed and store this turn's phrase), with the shipped MiniLM, against a
person who already has ``--items`` memories. Run it on an idle machine; on a busy one the encoder's time
varies with the load.

Run: python benchmarks/memory_speed.py --store sqlite --items 200 --turns 50 [--out runs/memory_speed.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import torch
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore

from hef_graph.memory import (
    MiniLMEncoder,
    RecallSettings,
    in_memory_store,
    load_phrase_encoder,
    memory_note,
    new_item,
    recall,
    record,
    sqlite_store,
)

CAUSES = [
    "job interview", "dog died", "final exams", "girlfriend broke up", "car broke down", "pay rent",
    "baby born", "coworker credit", "biopsy results", "moving abroad", "birthday alone", "driving test",
    "father cancer", "wedding venue", "flight cancelled", "fired job", "friend secret", "cat surgery",
    "school bullying", "daughter graduated", "divorce papers", "flooded basement", "new puppy", "promotion",
]  # fmt: skip


def make_store(kind: str, encoder: MiniLMEncoder, folder: Path) -> BaseStore:
    """The store under test: 'memory' (InMemoryStore's index), 'memory-no-index' (ranked in Python), 'sqlite'."""
    if kind == "memory":
        return in_memory_store(encoder)
    if kind == "memory-no-index":
        return InMemoryStore()
    return sqlite_store(folder / "memory.sqlite", encoder)


def fill(store: BaseStore, encoder: MiniLMEncoder, items: int, rng: random.Random) -> None:
    """Give the person ``items`` earlier memories spread over the last 90 days."""
    now = datetime.now(timezone.utc)
    for index in range(items):
        when = now - timedelta(days=rng.uniform(0, 90))
        cause = f"{rng.choice(CAUSES)} {rng.choice(CAUSES).split()[0]}"
        record(store, "bench-user", new_item("anxious", cause, f"old-{index}", when, None, None), encoder)


def one_turn(store: BaseStore, encoder: MiniLMEncoder, cause: str, thread: str) -> float:
    """Seconds of one turn's memory work: recall, the prompt note, and the record of the turn."""
    started = time.perf_counter()
    now = datetime.now(timezone.utc)
    recalled = recall(store, "bench-user", cause, encoder, RecallSettings(threshold=0.3, limit=2), now=now,
                      thread_id=thread)  # fmt: skip
    memory_note(recalled, now)
    record(store, "bench-user", new_item("anxious", cause, thread, now, None, None), encoder)
    return time.perf_counter() - started


def main() -> None:
    """Time ``--turns`` turns against a person with ``--items`` memories; print (and write) the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["memory", "memory-no-index", "sqlite"], default="sqlite")
    parser.add_argument("--items", type=int, default=200, help="memories the person has before the timed turns")
    parser.add_argument("--turns", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    encoder = load_phrase_encoder()
    encoder.embed(["warm up"])
    with tempfile.TemporaryDirectory() as folder:
        store = make_store(args.store, encoder, Path(folder))
        fill(store, encoder, args.items, rng)
        # each timed phrase is new (a turn number appended), so the encoder's phrase cache never answers for it
        durations = [
            one_turn(store, encoder, f"{rng.choice(CAUSES)} {turn}", f"new-{turn}") for turn in range(args.turns)
        ]
    summary = {
        "store": args.store, "items": args.items, "turns": args.turns, "torch_threads": torch.get_num_threads(),
        "median_ms": round(1000 * statistics.median(durations), 2),
        "max_ms": round(1000 * max(durations), 2), "machine": platform.machine(), "python": platform.python_version(),
    }  # fmt: skip
    print(json.dumps(summary, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
