"""Persistent conversation state: SQLite at a per-user data path by default, Postgres by URL."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver


def user_data_dir() -> Path:
    """Return ``$HEF_DATA_HOME``, else ``$XDG_DATA_HOME/hef-graph``, else ``~/.local/share/hef-graph``."""
    if os.environ.get("HEF_DATA_HOME"):
        return Path(os.environ["HEF_DATA_HOME"])
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "hef-graph"


def sqlite_checkpointer(path: str | Path | None = None) -> SqliteSaver:
    """Open (creating if needed) the SQLite checkpoint store; threads survive process restarts.

    The connection is shared across threads (SqliteSaver serialises writes with its own lock) and
    uses WAL journaling, so a process killed mid-turn leaves the file consistent.
    """
    path = Path(path) if path is not None else user_data_dir() / "threads.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(str(path), check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    saver = SqliteSaver(connection)
    saver.setup()
    return saver


def checkpointer_from_url(url: str | None) -> BaseCheckpointSaver:
    """Pick the store by URL: ``postgresql://...`` (deployments beyond one machine), else a SQLite path.

    Postgres needs ``pip install langgraph-checkpoint-postgres "psycopg[binary]"``.
    """
    if url and url.startswith(("postgres://", "postgresql://")):
        try:
            from langgraph.checkpoint.postgres import PostgresSaver
            from psycopg import Connection
            from psycopg.rows import dict_row
        except ImportError as error:
            raise RuntimeError(
                'Postgres threads need: pip install langgraph-checkpoint-postgres "psycopg[binary]"'
            ) from error
        connection = Connection.connect(url, autocommit=True, prepare_threshold=0, row_factory=dict_row)
        saver = PostgresSaver(connection)
        saver.setup()
        return saver
    return sqlite_checkpointer(url.removeprefix("sqlite:///") if url else None)
