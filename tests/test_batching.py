"""Micro-batching of the resident SEM: shared forward passes, no cross-talk between conversations."""

import threading

import numpy as np
import pytest

from hef_graph import Context
from hef_graph.deps import sem_of
from hef_graph.sem.batching import BatchedSEM

DIALOGUES = [[f"My {thing} {event} today."] for thing in ("dog", "exam", "car", "sister", "boss", "garden", "phone",
             "team") for event in ("died", "went great", "was stolen", "surprised me")]  # fmt: skip


def test_concurrent_callers_share_batches_and_get_their_own_results(real_sem):
    batched = BatchedSEM(real_sem, max_batch=16, max_wait_ms=20)
    expected = [real_sem.analyze([d], n=3)[0] for d in DIALOGUES]
    results: dict[int, object] = {}

    def call(index: int) -> None:
        results[index] = batched.analyze([DIALOGUES[index]], n=3)[0]

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(DIALOGUES))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert max(batched.batch_sizes) > 1 and sum(batched.batch_sizes) == len(DIALOGUES)
    for index, want in enumerate(expected):
        got = results[index]
        assert got.target == want.target
        np.testing.assert_allclose(list(got.probabilities.values()), list(want.probabilities.values()), atol=1e-4)
        assert [c.word for c in got.causes] == [c.word for c in want.causes]


def test_errors_reach_the_caller_who_caused_them(real_sem):
    batched = BatchedSEM(real_sem)
    with pytest.raises(ValueError, match="unknown emotion"):
        batched.analyze([["hello"]], targets=["not-a-label"])
    assert batched.analyze([["I won!"]])[0].target  # the worker survived


def test_the_graph_uses_one_shared_batcher_when_batching_is_on(real_sem):
    assert sem_of(Context(sem=real_sem, sem_batching="on")) is real_sem.batched()
    assert sem_of(Context(sem_batching="on")) is real_sem.batched()
    assert sem_of(Context(sem_batching="off")) is real_sem
    expected = real_sem.batched() if real_sem.device.type == "cuda" else real_sem
    assert sem_of(Context()) is expected  # 'auto': batch on CUDA only
