"""Persistent conversation state: SQLite at a per-user data path by default, Postgres by URL.

Both are encrypted at rest when an AES key is in the environment (``HEF_AES_KEY`` or ``LANGGRAPH_AES_KEY``; see
``hef_graph.encryption``).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver

from hef_graph.encryption import aes_key, thread_serializer

SETUP_LOCK = 0x48454647
"""The Postgres advisory lock every HEF process takes to create or migrate its tables (any fixed number)."""


def user_data_dir() -> Path:
    """Return ``$HEF_DATA_HOME``, else ``$XDG_DATA_HOME/hef-graph``, else ``~/.local/share/hef-graph``."""
    if os.environ.get("HEF_DATA_HOME"):
        return Path(os.environ["HEF_DATA_HOME"])
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "hef-graph"


def sqlite_checkpointer(path: str | Path | None = None) -> SqliteSaver:
    """Open (creating if needed) the SQLite checkpoint store; threads survive process restarts.

    The connection is shared across threads (SqliteSaver serialises writes with its own lock) and
    uses WAL journaling, so a process killed mid-turn leaves the file consistent. Encrypted with the
    environment's AES key, if any (``hef_graph.encryption``).
    """
    path = Path(path) if path is not None else user_data_dir() / "threads.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    serde = thread_serializer(aes_key())
    connection = sqlite3.connect(str(path), check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    saver = SqliteSaver(connection, serde=serde)
    saver.setup()
    return saver


def set_up_postgres(connection: Any, setup: Callable[[], None]) -> None:
    """Run a Postgres saver's or store's ``setup`` (its table migrations) in one process at a time.

    Workers started together on a fresh database would otherwise all create the tables, and all but one fail
    (duplicate key in ``pg_type``). The lock is polled, not awaited inside Postgres: a session blocked in
    ``pg_advisory_lock`` holds a snapshot that the migrations' ``CREATE INDEX CONCURRENTLY`` would wait for.
    """
    while not connection.execute("SELECT pg_try_advisory_lock(%s) AS locked", (SETUP_LOCK,)).fetchone()["locked"]:
        time.sleep(0.1)
    try:
        setup()
    finally:
        connection.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK,))


def checkpointer_from_url(url: str | None) -> BaseCheckpointSaver:
    """Pick the store by URL: ``postgresql://...`` (deployments beyond one machine), else a SQLite path.

    Postgres needs ``pip install langgraph-checkpoint-postgres "psycopg[binary]"``. Encrypted with the
    environment's AES key, if any (``hef_graph.encryption``).
    """
    if not (url and url.startswith(("postgres://", "postgresql://"))):
        return sqlite_checkpointer(url.removeprefix("sqlite:///") if url else None)
    key = aes_key()
    try:
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg import Connection
        from psycopg.rows import dict_row

        from hef_graph.postgres_threads import SealingPostgresSaver
    except ImportError as error:
        raise RuntimeError(
            'Postgres threads need: pip install langgraph-checkpoint-postgres "psycopg[binary]"'
        ) from error
    connection = Connection.connect(url, autocommit=True, prepare_threshold=0, row_factory=dict_row)
    saver_class = PostgresSaver if key is None else SealingPostgresSaver
    saver = saver_class(connection, serde=thread_serializer(key))
    set_up_postgres(connection, saver.setup)
    return saver
