"""The one explicit cache of loaded models: keyed, bounded, and clearable.

Loading a model costs seconds and hundreds of MB, so ``load_llm`` and ``load_sem`` keep what they load
here instead of in hidden module registries. A program that wants its own lifetime passes its own
``ModelCache``; everyone else shares ``DEFAULT_MODEL_CACHE``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class ModelCache:
    """A thread-safe LRU of loaded models; each key is built at most once while it stays cached."""

    def __init__(self, max_entries: int = 4) -> None:
        """Keep at most ``max_entries`` models; the least recently used one is dropped first."""
        if max_entries < 1:
            raise ValueError(f"max_entries must be >= 1, got {max_entries}")
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[Hashable, threading.Lock] = {}
        self.quiet = False
        """Swallow what a build writes to ``sys.stderr`` (progress bars such as transformers' GGUF conversion,
        which ignores its own progress-bar switch). The command line sets it unless ``--log-level DEBUG``;
        it swaps ``sys.stderr`` process-wide during a build, so a library embedding HEF leaves it off."""

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """Return the model cached under ``key``, building it with ``build`` on a miss.

        Concurrent callers of one key wait for a single build; other keys build in parallel.
        """
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
            key_lock = self._building.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._entries:
                    return self._entries[key]
            log.info("loading %s", key)
            with contextlib.redirect_stderr(io.StringIO()) if self.quiet else contextlib.nullcontext():
                value = build()
            with self._lock:
                self._entries[key] = value
                self._building.pop(key, None)
                while len(self._entries) > self.max_entries:
                    evicted, _ = self._entries.popitem(last=False)
                    log.info("evicted %s from the model cache", evicted)
            return value

    def clear(self) -> None:
        """Forget every cached model (their memory is freed once nothing else holds them)."""
        with self._lock:
            self._entries.clear()

    def keys(self) -> list[Hashable]:
        """The cached keys, least recently used first."""
        with self._lock:
            return list(self._entries)


DEFAULT_MODEL_CACHE = ModelCache()
"""The process's shared cache, used when a caller passes none."""
