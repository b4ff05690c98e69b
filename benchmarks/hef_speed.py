"""HEF speed (issue 6): turn latency, SEM throughput under concurrency, start times and peak RSS.

Turn latency is measured against LLM-alone and a naive generate-every-judgement pipeline, on the same
dialogues and reply cap, alternating (with each HEF node's median), and both HEF and LLM-alone again with
replies generated to the length cap (no early stop), whose cleaned replies must equal the early-stopped ones;
SEM throughput with and without micro-batching.

Run: python benchmarks/hef_speed.py --dialogues 50 --seed 0 --out docs/speed.json
(``--pipelines hef,llm_alone`` times only the pair the speed bar compares, so more dialogues fit the time.)
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import torch

from hef_graph import Context, build_graph, load_llm, load_sem
from hef_graph.guidance import reply_messages
from hef_graph.lab.data import default_data_dir, load_samples
from hef_graph.lab.evaluation.systems import as_messages
from hef_graph.lab.metrics import nearest_rank_percentile
from hef_graph.replies import clean_reply
from hef_graph.sem.batching import BatchedSEM

PIPELINES = ("llm_alone", "hef", "hef_attribution", "naive_generate", "hef_full_length", "llm_alone_full_length")
"""HEF; the same LLM alone; HEF with attribution cause words; HEF generating every judgement; HEF and LLM
alone generating to the length cap (no early stop)."""
RATIOS = {
    "ratio_hef_to_llm_alone_p50": ("hef", "llm_alone"),
    "ratio_naive_to_llm_alone_p50": ("naive_generate", "llm_alone"),
    "ratio_hef_attribution_to_llm_alone_p50": ("hef_attribution", "llm_alone"),
    "ratio_full_length_hef_to_llm_alone_p50": ("hef_full_length", "llm_alone_full_length"),
}
START_SCRIPTS = {
    "hef": """
import time; started = time.perf_counter()
from hef_graph import build_graph
out = build_graph().invoke({"messages": [("user", "My dog died this morning.")]})
assert out["reply"]
print(time.perf_counter() - started)
""",
    "llm_alone": """
import time; started = time.perf_counter()
from hef_graph import Context, load_llm
from hef_graph.guidance import reply_messages
context = Context()
reply = load_llm().reply(reply_messages(["My dog died this morning."], [], context.max_prompt_chars),
                         context.reply_caps(), context.call_policy())
assert reply
print(time.perf_counter() - started)
""",
}


def paired_ratio(times: list[float], base: list[float], resamples: int = 2000, seed: int = 0) -> dict:
    """Compare two pipelines dialogue by dialogue, so the bar is read next to its noise.

    Returns the median of per-dialogue ratios and a bootstrap 95% interval of the ratio of medians
    (dialogues resampled in pairs).
    """
    rng = random.Random(seed)
    pairs = list(zip(times, base, strict=True))
    ratios = []
    for _ in range(resamples):
        drawn = [pairs[rng.randrange(len(pairs))] for _ in pairs]
        ratios.append(statistics.median(t for t, _ in drawn) / statistics.median(b for _, b in drawn))
    ratios.sort()
    return {"median_of_ratios": round(statistics.median(t / b for t, b in pairs), 3),
            "ratio_of_medians_95ci": [round(ratios[int(0.025 * resamples)], 3),
                                      round(ratios[int(0.975 * resamples) - 1], 3)]}  # fmt: skip


def summary(values: list[float]) -> dict[str, float]:
    """Median and p95, rounded."""
    return {"p50": round(statistics.median(values), 3), "p95": round(nearest_rank_percentile(values, 0.95), 3)}


def turn_latency(dialogues: list[tuple[str, ...]], context: Context, pipelines: set[str]) -> dict:
    """Time the chosen ``PIPELINES`` turn by turn on the same dialogues, in rotating order."""
    llm = load_llm()  # the default LLM, or $HEF_LLM's
    graph = build_graph()
    naive = Context(judgement="generate", max_new_tokens=context.max_new_tokens)

    full_length = replace(context, early_stop=False)  # the reply generated to its length cap, as before
    replies: dict[str, list[str]] = defaultdict(list)

    def llm_alone(turns: tuple[str, ...], settings: Context = context, name: str = "llm_alone") -> None:
        messages = reply_messages(turns, [], settings.max_prompt_chars)
        replies[name].append(clean_reply(llm.reply(messages, settings.reply_caps(), settings.call_policy())))

    node_times: dict[str, list[float]] = defaultdict(list)

    def hef(turns: tuple[str, ...]) -> None:
        """One HEF turn, streamed so each node's share of the time is seen (a node ends when its update arrives)."""
        started, reply = time.perf_counter(), ""
        for update in graph.stream({"messages": as_messages(turns)}, context=context, stream_mode="updates"):
            now = time.perf_counter()
            for node, values in update.items():
                node_times[node].append(now - started)
                reply = (values or {}).get("reply") or reply
            started = now
        replies["hef"].append(reply)

    def hef_full_length(turns: tuple[str, ...]) -> None:
        replies["hef_full_length"].append(
            graph.invoke({"messages": as_messages(turns)}, context=full_length)["reply"] or ""
        )

    attribution = replace(context, cause_source="attribution")  # the cause words before the tagger (issue 17)
    runs = {
        "llm_alone": llm_alone,
        "hef": hef,
        "hef_attribution": lambda turns: graph.invoke({"messages": as_messages(turns)}, context=attribution),
        "naive_generate": lambda turns: graph.invoke({"messages": as_messages(turns)}, context=naive),
        "hef_full_length": hef_full_length,
        "llm_alone_full_length": lambda turns: llm_alone(turns, full_length, "llm_alone_full_length"),
    }
    runs = {name: run for name, run in runs.items() if name in pipelines}
    times: dict[str, list[float]] = {name: [] for name in runs}
    hef(("I just got back from a long trip.",))  # warm-up (loads both models) on a dialogue not timed
    node_times.clear()  # the warm-up loaded the models inside its nodes
    replies.clear()
    for index, turns in enumerate(dialogues):
        names = list(runs)
        for name in names[index % len(names) :] + names[: index % len(names)]:
            llm.clear_prefixes()  # no pipeline may start from the prefill of another's run on this dialogue
            started = time.perf_counter()
            runs[name](turns)
            times[name].append(time.perf_counter() - started)
    result: dict = {name: summary(values) for name, values in times.items()}
    if node_times:
        result["hef_nodes_s"] = {node: {"runs": len(values), "p50": round(statistics.median(values), 3)}
                                 for node, values in node_times.items()}  # fmt: skip
    for key, (name, base) in RATIOS.items():
        if name in times and base in times:
            result[key] = round(statistics.median(times[name]) / statistics.median(times[base]), 3)
    if "hef" in times and "llm_alone" in times:
        result["hef_to_llm_alone_paired"] = paired_ratio(times["hef"], times["llm_alone"])
    for name in ("hef", "llm_alone"):  # early stopping must not change a reply
        if name in replies and f"{name}_full_length" in replies:
            same = sum(a == b for a, b in zip(replies[name], replies[f"{name}_full_length"], strict=True))
            result[f"{name}_replies_same_with_early_stop"] = f"{same}/{len(replies[name])}"
    return result


def sem_throughput(dialogues: list[list[str]], levels: tuple[int, ...]) -> dict:
    """Dialogues per second through the SEM (emotion + causes) with N concurrent callers."""
    sem = load_sem()
    result = {}
    for batched in (False, True):
        target = BatchedSEM(sem) if batched else sem
        for level in levels:
            work = [dialogues[i % len(dialogues)] for i in range(max(64, 2 * level))]
            chunks = [work[i::level] for i in range(level)]

            def worker(items: list[list[str]], analyzer=target) -> None:
                for item in items:
                    analyzer.analyze([item], n=5)

            threads = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            key = f"{'micro_batched' if batched else 'one_at_a_time'}_{level}"
            result[key] = round(len(work) / (time.perf_counter() - started), 1)
    result["speedup_at_16"] = round(result["micro_batched_16"] / result["one_at_a_time_16"], 2)
    return result


def start_times() -> dict:
    """Seconds from a new process's first line to its first reply, HEF and LLM alone: first launch, then a repeat."""
    result = {}
    for name, script in START_SCRIPTS.items():
        seconds = []
        for _ in range(2):
            output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
            seconds.append(round(float(output.stdout.strip().splitlines()[-1]), 2))
        result[name] = {"first_launch_s": seconds[0], "warm_start_s": seconds[1]}
    return result


def main() -> None:
    """Run every measurement and save them together."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialogues", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--parts", default="start,turn,sem", help="Which measurements: start, turn, sem.")
    parser.add_argument("--pipelines", default=",".join(PIPELINES), help="Which turn pipelines to time.")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    samples = random.Random(args.seed).sample(load_samples(args.data_dir, "test"), args.dialogues)
    report: dict = {
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads, "
        f"{'cuda ' + torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu'}",
        "dialogues": args.dialogues,
        "seed": args.seed,
        "llm": load_llm().name,
    }
    if "start" in parts:
        report["start"] = start_times()
    if "turn" in parts:
        pipelines = set(args.pipelines.split(","))
        if unknown := pipelines - set(PIPELINES):
            parser.error(f"unknown pipelines {sorted(unknown)}; choose from {', '.join(PIPELINES)}")
        report["pipelines"] = [name for name in PIPELINES if name in pipelines]
        report["turn_latency_s"] = turn_latency([s.context for s in samples], Context(), pipelines)
    if "sem" in parts:
        report["sem_dialogues_per_s"] = sem_throughput([list(s.context) for s in samples], (1, 4, 16, 64))
    report["benchmark_process_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
