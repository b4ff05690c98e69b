"""Persistent conversation state: the default SQLite checkpointer at a per-user data path."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

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
