"""The resident SEM: loaded once per process onto the best device and shared by every graph and thread."""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path

from hef_graph.sem.batching import BatchedSEM
from hef_graph.sem.model import EmotionClassifier, best_device

_lock = threading.Lock()
_resident: dict[tuple[str, str], EmotionClassifier] = {}
_batchers: dict[int, BatchedSEM] = {}


def shipped_sem_dir() -> Path:
    """Return the folder of the SEM weights shipped inside the package."""
    return Path(str(resources.files("hef_graph") / "resources" / "sem"))


def load_sem(path: str | Path | None = None, device: str | None = None) -> EmotionClassifier:
    """Return the SEM saved at ``path`` (default: the shipped one), loading it at most once per process."""
    folder = Path(path) if path is not None else shipped_sem_dir()
    device = device or best_device()
    key = (str(folder.resolve()), device)
    with _lock:
        if key not in _resident:
            _resident[key] = EmotionClassifier.from_pretrained(folder, device=device)
        return _resident[key]


def shared_batcher(sem: EmotionClassifier) -> BatchedSEM:
    """Return the one micro-batcher of a loaded classifier, so every graph and thread shares its batches."""
    with _lock:
        if id(sem) not in _batchers:
            _batchers[id(sem)] = BatchedSEM(sem)
        return _batchers[id(sem)]
