"""Score, not generate: a local LLM's log-probability of each candidate label as its answer.

One forward pass reads the judgement prompt and every label continuation side by side (a block mask keeps
the labels apart), with no decoding; the dialogue part of its cache is kept for the next judgement and the
reply (``hef_graph.llm.prefix_cache``).
"""

from __future__ import annotations

import inspect
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from langchain_core.messages import BaseMessage

from hef_graph.llm.prefix_cache import PrefixCache, chat_prompt_text, output_cache

MEMO_SIZE = 4096


class LabelScorer:
    """Score candidate answers of a local causal LM after a chat prompt."""

    def __init__(self, prefixes: PrefixCache) -> None:
        """Score with the model and tokenizer of ``prefixes``, sharing its stored prompt prefixes."""
        self.prefixes = prefixes
        self.model = prefixes.model
        self.tokenizer = prefixes.tokenizer
        # transformers renamed `past_key_values` to `cache` (the old name warns, then goes in 5.40).
        parameters = inspect.signature(self.model.forward).parameters
        self._cache_argument = "cache" if "cache" in parameters else "past_key_values"
        self._memo: OrderedDict[tuple[str, tuple[str, ...]], list[float]] = OrderedDict()
        self._memo_lock = threading.Lock()

    def log_likelihoods(self, messages: Sequence[BaseMessage], candidates: Sequence[str]) -> dict[str, float]:
        """Return log P(candidate | prompt) for each candidate, spelled as an answer starts (capitalised)."""
        prompt = chat_prompt_text(self.tokenizer, messages)
        spellings = tuple(c.capitalize() for c in candidates)
        key = (prompt, spellings)
        with self._memo_lock:
            totals = self._memo.get(key)
        if totals is None:  # the same judgement asked again (a retry, or an ablation) costs nothing
            totals = self._continuation_log_probs(prompt, list(spellings))
            with self._memo_lock:
                self._memo[key] = totals
                while len(self._memo) > MEMO_SIZE:
                    self._memo.popitem(last=False)
        return dict(zip(candidates, totals, strict=True))

    @torch.inference_mode()
    def _continuation_log_probs(self, prompt: str, continuations: list[str]) -> list[float]:
        start = self.prefixes.start(prompt)  # the dialogue's prefix, shared with the reply
        pieces = [self.tokenizer(text, add_special_tokens=False).input_ids for text in continuations]
        past = start.cache.get_seq_length() if start.cache is not None else 0
        packed = pack_continuations(start.new_ids, pieces, past, self.model.dtype)
        device = self.model.device
        output = self.model(
            packed.ids.to(device),
            attention_mask=packed.mask.to(device),
            position_ids=packed.positions.to(device),
            use_cache=True,
            **{self._cache_argument: start.cache},
        )
        self.prefixes.keep(start, output_cache(output))
        log_probs = torch.log_softmax(output.logits[0].float(), -1)
        return [log_probs[rows, piece].sum().item() for rows, piece in zip(packed.rows, pieces, strict=True)]


@dataclass(frozen=True)
class PackedPass:
    """One forward pass reading a prompt and every candidate continuation after it.

    The continuations sit side by side after the prompt; the mask lets each see the cache, the prompt and
    itself only, and each continues the prompt's positions, so its scores equal a pass of its own.
    ``rows[i]`` are the positions whose logits predict continuation i's tokens.
    """

    ids: torch.Tensor
    positions: torch.Tensor
    mask: torch.Tensor
    rows: list[list[int]]


def pack_continuations(prompt_ids: list[int], pieces: list[list[int]], past: int, dtype: torch.dtype) -> PackedPass:
    """Lay out ``prompt_ids`` then every piece for one pass after ``past`` cached positions."""
    if not prompt_ids:
        raise ValueError("scoring needs at least one prompt token after the cached prefix")
    length = len(prompt_ids) + sum(len(piece) for piece in pieces)
    allowed = torch.tril(torch.ones(length, length, dtype=torch.bool))
    positions = list(range(past, past + len(prompt_ids)))
    rows, offset = [], len(prompt_ids)
    for piece in pieces:
        allowed[offset : offset + len(piece), len(prompt_ids) : offset] = False  # not the other candidates
        positions += range(past + len(prompt_ids), past + len(prompt_ids) + len(piece))
        rows.append(([len(prompt_ids) - 1] + [offset + i for i in range(len(piece) - 1)])[: len(piece)])
        offset += len(piece)
    allowed = torch.cat([torch.ones(length, past, dtype=torch.bool), allowed], 1)
    mask = torch.zeros(allowed.shape, dtype=dtype).masked_fill(~allowed, torch.finfo(dtype).min)
    ids = [*prompt_ids, *(token for piece in pieces for token in piece)]
    return PackedPass(torch.tensor([ids]), torch.tensor([positions]), mask[None, None], rows)
