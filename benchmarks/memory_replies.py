r"""The real LLM's replies to each memory scenario's probe, with emotional memory and without, for a blind rating.

tests/test_memory_scenarios.py checks that memory recalls the right earlier items, with scripted models; it
cannot say whether a recalled memory makes the reply better. This script produces the material for people to
judge that: every scenario of tests/data/memory_scenarios.json is played with the real default models (the
LLM of ``load_llm()``, Qwen2.5-Coder-1.5B through llama.cpp; the shipped SEM; the shipped cause tagger, so
tagging and hence recall are real, not scripted) and a fresh ``InMemoryStore`` with the MiniLM index per
scenario. As in the test, each history turn is its own earlier thread of its user and the probe is a later
thread. The probe is then answered twice: by the graph with the store (``hef_memory``) and by the same models
in a graph without a store (``hef_no_memory``), so memory is the only difference (decoding is greedy).

Records go to ``runs/memory_replies/predictions.jsonl`` in the shape ``hef eval`` writes for replies, so
``hef rate-export`` reads them; each also carries ``recalled`` (what the probe was offered from memory; empty
for ``hef_no_memory``), the memory line the reply prompt carried, and whether the recalled items came from
the history turns of the scenario's ``recall`` (compared by thread, since the real tagger's phrases differ).
Export the blind packet with:

    hef rate-export --out docs/eval/rated/memory --predictions runs/memory_replies/predictions.jsonl \
        --systems hef_memory,hef_no_memory --seed 3

Limitation of the rating: a rater sees only the probe thread's dialogue (one turn) and the two replies. A reply
that draws on the earlier thread mentions something the rater cannot see ("your interview on Monday"), which
can read as invented or as a non sequitur; the packet deliberately adds nothing to the dialogue, so what is
rated is the reply as the person would receive it minus the person's own knowledge of their past. Where the
probe recalled nothing, the two replies come from the same prompt and should be identical, i.e. a forced tie.
The whole history is played minutes before the probe, so a memory note says "earlier today" where a real
person's earlier thread would be days or weeks old.

Run (CPU, about 100 graph turns, a few seconds each):
    HEF_DATA_DIR=/work/shared/data HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false \
        python benchmarks/memory_replies.py [--out runs/memory_replies] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.base import BaseStore

from hef_graph import Context, build_graph, load_cause_tagger, load_llm, load_sem
from hef_graph.graph import HEFGraph
from hef_graph.memory import in_memory_store, load_phrase_encoder, memory_note

log = logging.getLogger("memory_replies")

SCENARIOS = Path(__file__).resolve().parent.parent / "tests" / "data" / "memory_scenarios.json"
SYSTEM_WITH, SYSTEM_WITHOUT = "hef_memory", "hef_no_memory"
EXPORT_COMMAND = (
    "hef rate-export --out docs/eval/rated/memory --predictions {predictions} "
    f"--systems {SYSTEM_WITH},{SYSTEM_WITHOUT} --seed 3"
)


def run_turn(graph: HEFGraph, text: str, user: str, thread: str) -> dict[str, Any]:
    """One user turn as the first turn of ``thread``; the user id only matters to a graph with memory."""
    config: Any = {"configurable": {"thread_id": thread}}
    result: dict[str, Any] = graph.invoke({"messages": [("user", text)]}, config, context=Context(user_id=user))
    return result


def expected_threads(scenario: dict[str, Any], tag: str) -> dict[str, str]:
    """The history threads whose scripted cause phrase the scenario says must be recalled, with that phrase.

    The real tagger finds its own cause words, so a recalled item's phrase need not equal the scripted one;
    what is compared is the thread it came from.
    """
    probe_user = scenario["probe"]["user"]
    return {
        f"{tag}-{number}": " ".join(turn["cause"])
        for number, turn in enumerate(scenario["history"])
        if turn["user"] == probe_user and " ".join(turn["cause"]) in scenario["recall"]
    }


def play(
    scenario: dict[str, Any], with_memory_graph: Callable[[BaseStore], HEFGraph], without_memory_graph: HEFGraph
) -> list[dict[str, Any]]:
    """Play the history (one thread each) into a fresh store, then answer the probe with and without memory.

    ``with_memory_graph`` is a factory taking the store, so that each scenario starts from an empty memory.
    """
    tag = scenario["name"]
    graph = with_memory_graph(in_memory_store(load_phrase_encoder()))
    texts = {}
    for number, turn in enumerate(scenario["history"]):
        thread = f"{tag}-{number}"
        texts[thread] = turn["text"]
        state = run_turn(graph, turn["text"], turn["user"], thread)
        log.info(
            "history %s: %s, stored %s", thread, state.get("emotion"), (state.get("remembered") or {}).get("cause")
        )
    probe = scenario["probe"]
    probe_thread = f"{tag}-probe"
    started = time.perf_counter()
    with_memory = run_turn(graph, probe["text"], probe["user"], probe_thread)
    with_seconds = time.perf_counter() - started
    started = time.perf_counter()
    without_memory = run_turn(without_memory_graph, probe["text"], probe["user"], probe_thread)
    without_seconds = time.perf_counter() - started

    expected = expected_threads(scenario, tag)
    recalled = [{**memory, "history_text": texts.get(str(memory["thread_id"]))}
                for memory in with_memory.get("recalled_memories", [])]  # fmt: skip
    recalled_threads = {str(memory["thread_id"]) for memory in recalled}
    recall_check = {
        "expected_recall": scenario["recall"],
        "recalled_expected": set(expected) <= recalled_threads if expected else None,
        "recalled_unexpected": sorted(recalled_threads - set(expected)),
        "memory_note": memory_note(with_memory.get("recalled_memories", [])),
    }
    common = {"sample_id": scenario["name"], "context": [probe["text"]], "gold": probe["emotion"], "reference": "",
              "with_reply": True}  # fmt: skip
    return [
        {**common, "system": SYSTEM_WITH, "reply": with_memory.get("reply"), "recalled": recalled, **recall_check,
         **perceived(with_memory), "turn_seconds": round(with_seconds, 2)},
        {**common, "system": SYSTEM_WITHOUT, "reply": without_memory.get("reply"), "recalled": [],
         **perceived(without_memory), "turn_seconds": round(without_seconds, 2)},
    ]  # fmt: skip


def perceived(state: dict[str, Any]) -> dict[str, Any]:
    """What HEF perceived in the probe (emotion, stage, cause words, notes): to see why two replies differ."""
    guidance = state.get("guidance") or {}
    return {"emotion": state.get("emotion"), "emotion_stage": state.get("emotion_stage"),
            "cause_words": [word["word"] for word in state.get("cause_words", [])],
            "notes": guidance.get("notes", [])}  # fmt: skip


def main() -> None:
    """Load the models once, play every scenario, write the records, and print a summary and the export command."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/memory_replies"))
    parser.add_argument("--limit", type=int, default=None, help="only the first N scenarios (a smoke run)")
    parser.add_argument("--verbose", action="store_true", help="also log each node's time (hef_graph's logs)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("hef_graph").setLevel(logging.INFO if args.verbose else logging.WARNING)

    scenarios = json.loads(SCENARIOS.read_text(encoding="utf-8"))["scenarios"][: args.limit]
    started = time.perf_counter()
    llm, sem, tagger = load_llm(), load_sem(), load_cause_tagger()
    load_phrase_encoder()
    log.info("models loaded in %.1f s", time.perf_counter() - started)

    def with_memory_graph(store: BaseStore) -> HEFGraph:
        """A graph with memory in ``store`` and the models loaded above (a fresh store per scenario)."""
        return build_graph(InMemorySaver(), llm, sem, cause_tagger=tagger, store=store, name="hef_memory")

    without_memory_graph = build_graph(InMemorySaver(), llm, sem, cause_tagger=tagger, name="hef_no_memory")
    args.out.mkdir(parents=True, exist_ok=True)
    predictions = args.out / "predictions.jsonl"
    records: list[dict[str, Any]] = []
    with predictions.open("w", encoding="utf-8") as out:
        for number, scenario in enumerate(scenarios, start=1):
            pair = play(scenario, with_memory_graph, without_memory_graph)
            for record in pair:
                out.write(json.dumps(record) + "\n")
            out.flush()
            records += pair
            log.info("%d/%d %s: recalled %s (expected %s)", number, len(scenarios), scenario["name"],
                     [m["cause"] for m in pair[0]["recalled"]], scenario["recall"])  # fmt: skip

    with_memory = [r for r in records if r["system"] == SYSTEM_WITH]
    should = [r for r in with_memory if r["expected_recall"]]
    summary = {
        "scenarios": len(with_memory),
        "recalled_something": sum(bool(r["recalled"]) for r in with_memory),
        "should_recall": len(should),
        "recalled_the_expected": sum(bool(r["recalled_expected"]) for r in should),
        "recalled_something_unexpected": sum(bool(r["recalled_unexpected"]) for r in with_memory),
        "identical_replies": sum(r["reply"] == o["reply"] for r, o in zip(records[::2], records[1::2], strict=True)),
        "wall_seconds": round(time.perf_counter() - started, 1),
        "predictions": str(predictions),
    }
    print(json.dumps(summary, indent=2))
    print("export the blind packet with:\n  " + EXPORT_COMMAND.format(predictions=predictions))


if __name__ == "__main__":
    main()
