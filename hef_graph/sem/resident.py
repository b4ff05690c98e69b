"""The resident SEM and cause tagger: each loaded once onto the best device into the model cache, and shared."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from hef_graph.devices import best_device
from hef_graph.model_cache import DEFAULT_MODEL_CACHE, ModelCache
from hef_graph.sem.cause_tagger import CauseTagger
from hef_graph.sem.classifier import EmotionClassifier


def shipped_sem_dir() -> Path:
    """Return the folder of the SEM weights shipped inside the package."""
    return Path(str(resources.files("hef_graph") / "resources" / "sem"))


def shipped_tagger_dir() -> Path:
    """Return the folder of the cause tagger shipped inside the package (trained on RECCON-DD train)."""
    return Path(str(resources.files("hef_graph") / "resources" / "cause_tagger"))


def load_sem(
    path: str | Path | None = None, device: str | None = None, *, cache: ModelCache = DEFAULT_MODEL_CACHE
) -> EmotionClassifier:
    """Return the SEM saved at ``path`` (default: the shipped one), loaded at most once while ``cache`` keeps it."""
    folder = Path(path) if path is not None else shipped_sem_dir()
    device = device or best_device()
    key = ("sem", str(folder.resolve()), device)
    return cache.get(key, lambda: EmotionClassifier.from_pretrained(folder, device=device))


def load_cause_tagger(
    path: str | Path | None = None, device: str | None = None, *, cache: ModelCache = DEFAULT_MODEL_CACHE
) -> CauseTagger:
    """Return the cause tagger saved at ``path`` (default: the shipped one), loaded once while ``cache`` keeps it."""
    folder = Path(path) if path is not None else shipped_tagger_dir()
    device = device or best_device()
    key = ("cause_tagger", str(folder.resolve()), device)
    return cache.get(key, lambda: CauseTagger.from_pretrained(folder, device=device))
