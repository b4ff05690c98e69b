"""Run systems over a stratified ED test sample, appending one JSON line per (sample, system).

A rerun skips what predictions.jsonl already holds, so a killed run resumes where it stopped.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from hef_graph.lab.data import DialogueSample, load_samples, stratified_sample
from hef_graph.lab.evaluation.systems import DEFAULT_SYSTEMS, REPLY_SYSTEMS, SYSTEMS, SystemRunner
from hef_graph.llm import load_llm
from hef_graph.sem.resident import load_sem

PREDICTIONS = "predictions.jsonl"


@dataclass(kw_only=True)
class EvalConfig:
    """What to run: systems, sample sizes (per emotion), seed, LLM and concurrency."""

    data_dir: Path
    output_dir: Path
    systems: list[str] = field(default_factory=lambda: list(DEFAULT_SYSTEMS))
    sample: int = 20
    reply_sample: int = 5
    seed: int = 0
    limit: int | None = None
    llm: str | None = None
    concurrency: int = 1
    exclude: Path | None = None
    """An earlier evaluation's predictions.jsonl: its conversations are left out, so this sample is fresh."""

    def __post_init__(self) -> None:
        """Reject unknown systems and sizes that make no sense, naming what is allowed."""
        unknown = [name for name in self.systems if name not in SYSTEMS]
        if unknown:
            raise ValueError(f"unknown systems {unknown}; choose from {list(SYSTEMS)}")
        if self.sample < 1 or self.reply_sample < 0 or self.reply_sample > self.sample:
            raise ValueError("need sample >= 1 and 0 <= reply_sample <= sample (both per emotion)")
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {self.concurrency}")


def conversation_of(sample_id: str) -> str:
    """The ED conversation a sample (one listener turn, ``hit:..._conv:...#turn``) belongs to."""
    return sample_id.split("#", 1)[0]


def conversations_in(predictions: Path) -> set[str]:
    """Every conversation with a record in an evaluation's predictions file."""
    with predictions.open(encoding="utf-8") as lines:
        return {conversation_of(json.loads(line)["sample_id"]) for line in lines if line.strip()}


def plan(config: EvalConfig) -> list[tuple[DialogueSample, str, bool]]:
    """List (sample, system, with_reply) tasks; replies only on the first reply_sample per emotion."""
    seen = conversations_in(config.exclude) if config.exclude else set()
    pool = [s for s in load_samples(config.data_dir, "test") if conversation_of(s.sample_id) not in seen]
    samples = stratified_sample(pool, config.sample, config.seed)
    reply_ids = {s.sample_id for s in stratified_sample(samples, config.reply_sample, config.seed)}
    samples = samples[: config.limit]
    tasks = []
    for name in config.systems:
        for sample in samples:
            with_reply = name in REPLY_SYSTEMS and sample.sample_id in reply_ids
            emotion_only_needed = SYSTEMS[name].judges_emotion and SYSTEMS[name].emotion_from not in config.systems
            if with_reply or emotion_only_needed:
                tasks.append((sample, name, with_reply))
    return tasks


def finished(path: Path) -> set[tuple[str, str]]:
    """Return the (sample_id, system) pairs already recorded; a torn last line is ignored."""
    if not path.is_file():
        return set()
    done = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        done.add((record["sample_id"], record["system"]))
    return done


def run_eval(config: EvalConfig) -> Path:
    """Run every unfinished task and return the predictions file."""
    config.output_dir.mkdir(parents=True, exist_ok=True)
    path = config.output_dir / PREDICTIONS
    done = finished(path)
    tasks = [task for task in plan(config) if (task[0].sample_id, task[1]) not in done]
    llm, sem = load_llm(config.llm), load_sem()
    runners = {name: SystemRunner(SYSTEMS[name], llm, sem) for name in config.systems}
    lock = threading.Lock()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TimeRemainingColumn())  # fmt: skip
    with Progress(*columns) as progress, path.open("a", encoding="utf-8") as out:
        bar = progress.add_task("hef eval", total=len(tasks))

        def execute(task: tuple[DialogueSample, str, bool]) -> None:
            sample, name, with_reply = task
            record: dict[str, Any] = runners[name].run(sample, with_reply)
            with lock:
                out.write(json.dumps(record) + "\n")
                out.flush()
                progress.update(bar, advance=1, description=f"hef eval: {name}")

        if config.concurrency == 1:
            for task in tasks:
                execute(task)
        else:
            with ThreadPoolExecutor(config.concurrency) as pool:
                list(pool.map(execute, tasks))
    return path
