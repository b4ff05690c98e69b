"""How the SEM's parts (encoders, speaker view, lexical and frozen members) add up before calibration."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Mixture:
    """How the SEM's parts add up in log-probability space (weights fit by maximum likelihood on ED valid).

    Each fine-tuned encoder reads the whole context with its weight in ``members`` (empty: equal shares of
    ``1 - speaker_view``); the encoders together read the speaker's turns alone with weight ``speaker_view``
    (the listener's lines often echo or soften the emotion); the lexical member and the frozen base encoder
    add ``lexical`` and ``frozen`` times their log-probabilities. The two extra members are weak alone but
    err differently from the fine-tuned ones.
    """

    members: tuple[float, ...] = ()
    speaker_view: float = 0.0
    lexical: float = 0.0
    frozen: float = 0.0

    def member_weights(self, count: int) -> np.ndarray:
        """The whole-context weight of each of ``count`` encoders."""
        if not self.members:
            return np.full(count, (1 - self.speaker_view) / count)
        if len(self.members) != count:
            raise ValueError(f"the mixture weighs {len(self.members)} encoders but the SEM has {count}")
        return np.asarray(self.members, dtype=np.float64)

    def part_weights(self) -> dict[str, float]:
        """The weights of the parts after the encoders' own, by part name (``EmotionClassifier.parts``)."""
        return {"speaker": self.speaker_view, "lexical": self.lexical, "frozen": self.frozen}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Mixture:
        """Read the ``mixture`` entry of ``sem_config.json`` (lists become tuples)."""
        return cls(**{**config, "members": tuple(config.get("members", ()))})


def speaker_turns(turns: Sequence[str]) -> list[str]:
    """Keep the speaker's turns: the last one (the turn being answered) and every second one before it."""
    return [turn for index, turn in enumerate(turns) if (len(turns) - 1 - index) % 2 == 0]
