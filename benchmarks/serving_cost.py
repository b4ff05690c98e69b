"""What serving safely costs a turn: token authentication and checkpoint encryption, measured side by side.

Per turn the server verifies the caller's token once per request (a turn is one ``runs.wait``, plus whatever
the client reads) and applies the authorization rules; encryption seals every checkpoint and pending write
the turn saves. This times both on the real code paths:

- auth: ``SignedTokens.verify`` of a bearer header plus the policy checks of a run (``check_run``, ``claim``);
- encryption: whole turns through the graph on SQLite, with and without ``HEF_AES_KEY``, interleaved, with the
  scripted models of the unit tests so that the checkpointing the key changes is not drowned by model time.

Usage: python benchmarks/serving_cost.py --turns 200 --out docs/serving_cost.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hef_graph import build_graph  # noqa: E402
from hef_graph.auth import policy  # noqa: E402
from hef_graph.auth.tokens import Identity, SignedTokens, bearer_token  # noqa: E402
from hef_graph.persistence import sqlite_checkpointer  # noqa: E402
from tests.conftest import ScriptedSEM, ScriptedTagger, fake_llm  # noqa: E402

KEY = "k" * 32
TEXTS = ["My dog died this morning.", "I keep expecting him at the door.", "The house is so quiet now."]


def auth_ms(requests: int) -> list[float]:
    """Milliseconds to authenticate and authorize one run request, ``requests`` times."""
    tokens = SignedTokens("s" * 48)
    header = f"Bearer {tokens.issue('alice')}"
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        identity = tokens.verify(bearer_token(header))
        value = {"kwargs": {"input": {"messages": []}, "context": {}}, "metadata": {}}
        policy.check_run(identity, value)
        policy.claim(identity, value)
        timings.append((time.perf_counter() - started) * 1000)
    assert identity == Identity("alice")
    return timings


def turn_ms(folder: Path, encrypted: bool, turn: int) -> float:
    """Milliseconds of one three-turn-deep turn on a fresh thread, with or without the AES key."""
    if encrypted:
        os.environ["HEF_AES_KEY"] = KEY
    else:
        os.environ.pop("HEF_AES_KEY", None)
    saver = sqlite_checkpointer(folder / ("sealed.sqlite" if encrypted else "plain.sqlite"))
    llm = fake_llm(*(["sad", "I'm so sorry."] * len(TEXTS)))
    graph = build_graph(saver, llm, ScriptedSEM(), cause_tagger=ScriptedTagger())
    config = {"configurable": {"thread_id": f"{encrypted}-{turn}-{uuid.uuid4().hex}"}}
    for text in TEXTS[:-1]:
        graph.invoke({"messages": [("user", text)]}, config)
    started = time.perf_counter()
    graph.invoke({"messages": [("user", TEXTS[-1])]}, config)
    return (time.perf_counter() - started) * 1000


def summary(values: list[float]) -> dict[str, float]:
    """Median and quartiles."""
    quartiles = statistics.quantiles(values, n=4)
    return {"median": statistics.median(values), "q1": quartiles[0], "q3": quartiles[2]}


def main() -> None:
    """Time both costs and print (and optionally save) their medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    auth = auth_ms(args.turns)
    plain, sealed = [], []
    with tempfile.TemporaryDirectory() as folder:
        for turn in range(args.turns):  # interleaved, so drift in the machine's load hits both arms alike
            plain.append(turn_ms(Path(folder), False, turn))
            sealed.append(turn_ms(Path(folder), True, turn))
    os.environ.pop("HEF_AES_KEY", None)
    encryption = statistics.median(sealed) - statistics.median(plain)
    result = {
        "command": f"python benchmarks/serving_cost.py --turns {args.turns}",
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "auth_ms_per_request": summary(auth),
        "turn_ms_plain": summary(plain),
        "turn_ms_encrypted": summary(sealed),
        "encryption_ms_per_turn": encryption,
        "sealed_over_plain": statistics.median(sealed) / statistics.median(plain),
        "auth_plus_encryption_ms_per_turn": statistics.median(auth) + encryption,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
