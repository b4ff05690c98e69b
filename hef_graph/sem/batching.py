"""Micro-batching for the resident SEM: concurrent conversations share one forward pass.

Each call waits at most ``max_wait_ms`` for company, then batched ``analyze`` passes run for everyone
queued; every caller gets back exactly its own result (results are matched by position, never shared).
Queued dialogues are sorted by length before they are split into passes, so a pass pads little.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import torch

from hef_graph.sem.attribution import Analysis


class AnalyzingSEM(Protocol):
    """What the batcher needs of the SEM it serves (``EmotionClassifier`` is one), so it need not import it."""

    @property
    def labels(self) -> tuple[str, ...]:
        """Return the label order of every probability array."""
        ...

    @property
    def device(self) -> torch.device:
        """Return the device the SEM runs on."""
        ...

    def predict_proba(self, dialogues: Sequence[Sequence[str]] | Sequence[str]) -> np.ndarray:
        """Return an (n, len(labels)) array of probabilities."""
        ...

    def analyze(
        self, dialogues: Sequence[Sequence[str]], n: int = 5, targets: Sequence[str | None] | None = None
    ) -> list[Analysis]:
        """Classify and find cause words in one pass, one result per dialogue."""
        ...


@dataclass
class _Request:
    dialogue: list[str]
    n: int
    target: str | None
    future: Future = field(default_factory=Future)


class BatchedSEM:
    """The SEM behind a micro-batcher; same interface as EmotionClassifier for HEF's purposes."""

    def __init__(
        self, sem: AnalyzingSEM, max_batch: int = 16, max_wait_ms: float = 4.0, per_pass: int | None = None
    ) -> None:
        """Start the worker thread that drains the queue into batches.

        ``per_pass`` caps the dialogues in one forward pass: by default all of a batch on a GPU, and 4 on
        a CPU, where one dialogue's attribution rows already fill the cores and a longer pass only pads.
        """
        if max_batch < 1 or max_wait_ms < 0 or (per_pass is not None and per_pass < 1):
            raise ValueError("max_batch and per_pass must be >= 1 and max_wait_ms >= 0")
        self.sem = sem
        self.max_batch = max_batch
        self.per_pass = per_pass or (max_batch if sem.device.type == "cuda" else 4)
        self.max_wait = max_wait_ms / 1000
        self.batch_sizes: list[int] = []
        self._queue: queue.Queue[_Request] = queue.Queue()
        self._worker = threading.Thread(target=self._serve, name="sem-microbatcher", daemon=True)
        self._worker.start()

    @property
    def labels(self) -> tuple[str, ...]:
        """Return the SEM's label order."""
        return self.sem.labels

    def predict_proba(self, dialogues: Sequence[Sequence[str]] | Sequence[str]) -> np.ndarray:
        """Classify without attribution (already batched by the caller; no queueing)."""
        return self.sem.predict_proba(dialogues)

    def cause_words(self, dialogue: Sequence[str], emotion: str | None = None, n: int = 5) -> list[tuple[str, float]]:
        """Return (word, score) pairs toward ``emotion``, through the shared batches."""
        return [(c.word, c.score) for c in self.analyze([dialogue], n=n, targets=[emotion])[0].causes]

    def analyze(
        self,
        dialogues: Sequence[Sequence[str]] | Sequence[str],
        n: int = 5,
        targets: Sequence[str | None] | None = None,
    ) -> list[Analysis]:
        """Queue each dialogue, wait for the batch it lands in, and return the results in order."""
        turns = [[d] if isinstance(d, str) else list(d) for d in dialogues]
        targets = list(targets) if targets is not None else [None] * len(turns)
        requests = [_Request(d, n, t) for d, t in zip(turns, targets, strict=True)]
        for request in requests:
            self._queue.put(request)
        return [request.future.result() for request in requests]

    def _serve(self) -> None:
        while True:
            batch = [self._queue.get()]
            deadline = time.perf_counter() + self.max_wait
            while len(batch) < self.max_batch:
                remaining = deadline - time.perf_counter()
                try:
                    batch.append(self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait())
                except queue.Empty:
                    break
            self.batch_sizes.append(len(batch))
            self._run(batch)

    def _run(self, batch: list[_Request]) -> None:
        by_n: dict[int, list[_Request]] = {}
        for request in batch:
            by_n.setdefault(request.n, []).append(request)
        for n, group in by_n.items():
            group.sort(key=lambda request: sum(len(turn) for turn in request.dialogue))
            for begin in range(0, len(group), self.per_pass):
                self._analyze(group[begin : begin + self.per_pass], n)

    def _analyze(self, group: list[_Request], n: int) -> None:
        try:
            results = self.sem.analyze([r.dialogue for r in group], n=n, targets=[r.target for r in group])
        except Exception as error:  # noqa: BLE001 - handed to each caller, who re-raises it
            for request in group:
                request.future.set_exception(error)
            return
        for request, result in zip(group, results, strict=True):
            request.future.set_result(result)
