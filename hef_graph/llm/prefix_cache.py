"""Keep the KV cache of a prompt's shared prefix (system prompt + quoted dialogue) between LLM calls.

Every HEF prompt about one dialogue starts with the same text (``prompting.dialogue_prompt``): the
judgements and the reply differ only after ``</dialogue>``. The scored judgement reads that prefix in its
one forward pass and stores its part of the cache here; the next judgement and the reply start from a copy
instead of reading it again.
Only in-process transformers models can do this; the cache is an optimisation and never changes an answer
(the prefix's token ids are checked against the full prompt's before a cache is used).
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage

from hef_graph.prompting import DIALOGUE_END, chat_dicts

CACHED_PREFIXES = 8
"""Prefixes kept per model: one per conversation turn in flight (about 46 kB per token for SmolLM2-135M)."""


@dataclass(frozen=True)
class PassStart:
    """The start of a forward pass: a private cache (None: from scratch) and the prompt ids still to read.

    ``prefix`` and ``prefix_ids`` are set on a miss: the shared prefix the pass will read, to be stored.
    """

    cache: Any | None
    new_ids: list[int]
    prefix: str | None = None
    prefix_ids: list[int] | None = None


class PrefixCache:
    """A small LRU of prefilled prompt prefixes for one causal LM."""

    def __init__(self, model: Any, tokenizer: Any, size: int = CACHED_PREFIXES) -> None:
        """Keep the model and tokenizer the caches belong to."""
        self.model = model
        self.tokenizer = tokenizer
        self.size = size
        self._entries: OrderedDict[str, tuple[list[int], Any]] = OrderedDict()
        self._lock = threading.Lock()

    def ids(self, text: str) -> list[int]:
        """Token ids of ``text`` as the generation pipeline tokenises a prompt (no added special tokens)."""
        return self.tokenizer(text, add_special_tokens=False).input_ids

    def start(self, prompt: str) -> PassStart:
        """Where a forward pass over ``prompt`` begins: a copy of its stored prefix, or nothing.

        On a miss the start names the prefix, so ``keep`` can store it from the pass's own cache
        (the prefix is read once, in the same pass as the rest of the prompt).
        """
        prompt_ids = self.ids(prompt)
        prefix = shared_prefix(prompt)
        if prefix is None:
            return PassStart(None, prompt_ids)
        entry = self._get(prefix)
        if entry is not None and prompt_ids[: len(entry[0])] == entry[0]:
            return PassStart(copy.deepcopy(entry[1]), prompt_ids[len(entry[0]) :])
        prefix_ids = self.ids(prefix)
        if entry is None and prompt_ids[: len(prefix_ids)] == prefix_ids:
            return PassStart(None, prompt_ids, prefix, prefix_ids)
        return PassStart(None, prompt_ids)

    def keep(self, start: PassStart, cache: Any) -> None:
        """Store the prefix part of ``cache``, the cache of a pass that began at ``start`` (a miss)."""
        if start.prefix is None or start.prefix_ids is None:
            return
        cache.crop(len(start.prefix_ids) - cache.get_seq_length())  # negative: drop the positions after it
        self._put(start.prefix, start.prefix_ids, cache)

    def reusable(self, prompt: str) -> Any | None:
        """Return a private copy of a stored cache for ``prompt``'s prefix, or None (never prefills).

        Generation extends the cache it is given, so a copy serves one call.
        """
        return self.start(prompt).cache

    def clear(self) -> None:
        """Forget every stored prefix (benchmarks use it so no pipeline profits from another's work)."""
        with self._lock:
            self._entries.clear()

    def _get(self, prefix: str) -> tuple[list[int], Any] | None:
        with self._lock:
            entry = self._entries.get(prefix)
            if entry is not None:
                self._entries.move_to_end(prefix)
            return entry

    def _put(self, prefix: str, prefix_ids: list[int], cache: Any) -> None:
        with self._lock:
            self._entries[prefix] = (prefix_ids, cache)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


def output_cache(output: Any) -> Any:
    """The KV cache of a forward pass (transformers renamed ``past_key_values`` to ``cache``)."""
    return output["cache"] if "cache" in output else output.past_key_values


def shared_prefix(prompt: str) -> str | None:
    """Return the prompt up to the end of its quoted dialogue (the part judgements and reply share)."""
    end = prompt.rfind(DIALOGUE_END)
    return prompt[: end + len(DIALOGUE_END)] if end > 0 else None


def chat_prompt_text(tokenizer: Any, messages: Sequence[BaseMessage]) -> str:
    """Render messages with the model's chat template, as ChatHuggingFace does before generating."""
    return tokenizer.apply_chat_template(chat_dicts(messages), tokenize=False, add_generation_prompt=True)
