"""Where models run: the LLM and the SEM both go to the best device the machine has."""

from __future__ import annotations

import torch


def best_device() -> str:
    """Return ``cuda`` when a GPU is visible, else ``cpu``."""
    return "cuda" if torch.cuda.is_available() else "cpu"
