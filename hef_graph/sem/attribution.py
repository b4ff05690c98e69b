"""Integrated-gradients attribution of the SEM's encoders: the words that push it toward an emotion.

The graph's default cause words come from the cause tagger; attribution serves ``cause_source="attribution"``
or ``"both"`` and the evaluations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from hef_graph.sem.encoder import EncoderMember
from hef_graph.sem.words import JoinedDialogue, is_content_word

CAUSE_RECENCY = 0.5
"""Each turn back in the dialogue halves a word's cause score. Emotion causes sit mostly in the latest two
turns (RECCON-DD valid: 50% and 46% of their content words are in cause spans, against 19% two turns back
and 4% four or more back); 0.5 still lets a strong word from the opening turn (where ED speakers describe
the situation) through. Chosen on RECCON-DD valid, see docs/results.md."""
IG_STEPS = 4
"""Integrated-gradients steps (midpoints). On valid (benchmarks/tune_ig_steps.py) 4 steps nearly match 8 on
RECCON span agreement (F1 0.327 vs 0.332) and ERASER comprehensiveness (0.415 vs 0.439) at 59% of the
per-turn cost; 2 steps fall clearly behind (0.290, 0.310)."""


@dataclass(frozen=True)
class CauseWord:
    """A word that drives the model toward an emotion, with where it sits in the dialogue."""

    word: str
    score: float
    turn: int
    start: int
    end: int

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (the ``cause_words`` state entry)."""
        return {"word": self.word, "score": self.score, "turn": self.turn, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Analysis:
    """What one SEM pass gives for a dialogue: the calibrated distribution and the cause words."""

    probabilities: dict[str, float]
    target: str
    causes: list[CauseWord]


def integrated_gradients(
    members: Sequence[EncoderMember],
    ids: Tensor,
    mask: Tensor,
    baseline_ids: Tensor,
    steps: int,
    targets_for: Callable[[np.ndarray], Sequence[int]],
) -> np.ndarray:
    """Per-token attributions (n, tokens) of each row's target log-probability, averaged over the encoders.

    ``targets_for`` receives every encoder's logits on the real input (the path's last point, shape
    (members, n, labels)) and returns each row's target label index, so the classification the caller
    needs comes from the same forward pass as the attribution.
    """
    alphas, weights = integration_points(steps, ids.device)
    points = len(alphas)
    rows, length = ids.shape
    member_paths, member_logits, member_deltas = [], [], []
    with torch.enable_grad():
        for member in members:
            inputs = member.word_embeddings(ids)
            baseline = member.word_embeddings(baseline_ids)
            delta = inputs - baseline
            path = baseline[:, None] + alphas[None, :, None, None] * delta[:, None]
            path = path.reshape(rows * points, length, -1).detach().requires_grad_(True)
            logits = member(None, mask.repeat_interleave(points, 0), inputs_embeds=path)
            member_paths.append(path)
            member_logits.append(logits.view(rows, points, -1))
            member_deltas.append(delta)
        final_logits = torch.stack([logits[:, -1] for logits in member_logits])  # (members, rows, labels)
        target_ids = torch.tensor(list(targets_for(final_logits.detach().float().cpu().numpy())), device=ids.device)
        scores = torch.zeros(rows, length, device=ids.device)
        for path, logits, delta in zip(member_paths, member_logits, member_deltas, strict=True):
            log_probs = torch.log_softmax(logits, -1)
            target_log_probs = log_probs.gather(-1, target_ids[:, None, None].expand(rows, points, 1))[..., 0]
            (grad,) = torch.autograd.grad((target_log_probs * weights).sum(), path)
            path_integral = grad.view(rows, points, length, -1).sum(1)
            scores += (delta * path_integral).sum(-1).detach()
    scores = scores * mask / len(members)
    return scores.cpu().numpy()


def padded_baseline(ids: Tensor, special_ids: Sequence[int], pad_id: int) -> Tensor:
    """The attribution baseline: every word token replaced by padding, special tokens kept."""
    special = torch.tensor([[token in special_ids for token in row] for row in ids.tolist()], device=ids.device)
    return torch.where(special, ids, torch.full_like(ids, pad_id))


def integration_points(steps: int, device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
    """Points on the path from baseline (0) to input (1) and their weights for integrated gradients.

    The midpoint rule, whose error shrinks with the square of the step (a right-endpoint sum's only with
    the step). The input itself comes last with weight 0: its forward pass gives the SEM's distribution,
    so one batch serves both.
    """
    if steps < 1:
        raise ValueError(f"integrated gradients needs at least one step, got {steps}")
    alphas = torch.cat([(torch.arange(steps, dtype=torch.float32) + 0.5) / steps, torch.ones(1)])
    weights = torch.cat([torch.full((steps,), 1.0 / steps), torch.zeros(1)])
    return alphas.to(device), weights.to(device)


def aggregate_words(
    joined: JoinedDialogue, offsets: list[list[int]], token_scores: np.ndarray, n: int, recency: float = 1.0
) -> list[CauseWord]:
    """Sum sub-token attributions into words, weigh them by recency, drop stopwords, keep each word's best occurrence.

    Only positive evidence counts: a word that pushes away from the emotion is not one of its causes.
    """
    last_turn = len(joined.turn_starts) - 1
    word_scores: dict[int, float] = {}
    for (start, end), score in zip(offsets, token_scores, strict=True):
        if end <= start:
            continue  # special or padding token
        index = joined.word_at(start)
        if index is not None:
            word_scores[index] = word_scores.get(index, 0.0) + float(score)
    total = float(np.abs(token_scores).sum()) or 1.0
    best: dict[str, CauseWord] = {}
    for index, score in word_scores.items():
        span = joined.words[index]
        key = span.text.lower()
        if score <= 0 or not is_content_word(span.text):
            continue
        score *= recency ** (last_turn - span.turn)
        if key not in best or score / total > best[key].score:
            best[key] = CauseWord(span.text, round(score / total, 4), span.turn, span.start, span.end)
    return sorted(best.values(), key=lambda cause: -cause.score)[:n]
