"""The plug-in contract any small empathetic model (SEM) implements to drive HEF."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class EmotionModel(Protocol):
    """What HEF needs from an SEM: a label set, a distribution, and cause words for a label.

    A dialogue is a list of turn strings, oldest first, the person sharing a feeling first.
    """

    @property
    def labels(self) -> Sequence[str]:
        """Return the label order of ``predict_proba`` columns (HEF expects the 32 ED labels)."""
        ...

    def predict_proba(self, dialogues: Sequence[Sequence[str]]) -> np.ndarray:
        """Return an (n, len(labels)) array of probabilities."""
        ...

    def cause_words(self, dialogue: Sequence[str], emotion: str | None = None, n: int = 5) -> list[tuple[str, float]]:
        """Return up to n (word, score) pairs of words in the dialogue that evoke ``emotion``."""
        ...


@runtime_checkable
class CauseFinder(Protocol):
    """What HEF needs from a cause tagger: the words of a dialogue that cause a given emotion, best first.

    Each returned word has ``text``, ``turn``, ``start``, ``end`` (its place in the dialogue) and ``score``.
    """

    def tag(self, dialogue: Sequence[str], emotion: str, n: int = 5) -> Sequence[Any]:
        """Return up to n cause words of ``dialogue`` for ``emotion``."""
        ...
