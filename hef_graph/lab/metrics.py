"""Classification and calibration metrics shared by the SEM and HEF evaluations."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hef_graph.sem.probabilities import log_softmax


def top_k_accuracy(probabilities: np.ndarray, gold: Sequence[int], k: int) -> float:
    """Share of rows whose gold index is among the k highest scores."""
    top = np.argsort(-probabilities, axis=1)[:, :k]
    gold_array = np.asarray(gold)[:, None]
    return float((top == gold_array).any(axis=1).mean())


def macro_f1(predicted: Sequence[str], gold: Sequence[str], labels: Sequence[str]) -> float:
    """Unweighted mean of per-label F1 over ``labels`` (a label absent from both counts as 0)."""
    scores = []
    for label in labels:
        tp = sum(1 for p, g in zip(predicted, gold, strict=True) if p == label and g == label)
        fp = sum(1 for p, g in zip(predicted, gold, strict=True) if p == label and g != label)
        fn = sum(1 for p, g in zip(predicted, gold, strict=True) if p != label and g == label)
        denominator = 2 * tp + fp + fn
        scores.append(2 * tp / denominator if denominator else 0.0)
    return float(np.mean(scores))


def expected_calibration_error(probabilities: np.ndarray, gold: Sequence[int], bins: int = 15) -> float:
    """ECE of the top-1 confidence over equal-width bins (Guo et al., 2017)."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(gold)
    edges = np.linspace(0.0, 1.0, bins + 1)
    error = 0.0
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            error += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(error)


def negative_log_likelihood(logits: np.ndarray, gold: Sequence[int], temperature: float = 1.0) -> float:
    """Mean NLL of the gold labels under softmax(logits / temperature)."""
    log_probabilities = log_softmax(logits / temperature)
    return float(-log_probabilities[np.arange(len(logits)), np.asarray(gold)].mean())


def fit_temperature(logits: np.ndarray, gold: Sequence[int]) -> float:
    """Find the temperature minimising validation NLL (golden-section search on log T)."""
    low, high = np.log(0.05), np.log(10.0)
    ratio = (np.sqrt(5) - 1) / 2
    for _ in range(60):
        a = high - ratio * (high - low)
        b = low + ratio * (high - low)
        if negative_log_likelihood(logits, gold, np.exp(a)) < negative_log_likelihood(logits, gold, np.exp(b)):
            high = b
        else:
            low = a
    return float(np.exp((low + high) / 2))


def nearest_rank_percentile(values: Sequence[float], q: float) -> float:
    """The value at rank ``q`` of the sorted values (no interpolation: always one of the measurements)."""
    if not values:
        raise ValueError("a percentile needs at least one value")
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]
