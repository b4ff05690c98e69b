"""The in-process console's list of threads: whose each is, its title, and whether it waits for a reviewer.

LangGraph's checkpointer can find a thread but not list a person's threads cheaply, nor the paused ones oldest
first; this small SQLite table does both. The checkpoints stay the truth: a paused mark is checked against the
thread's state before the inbox shows it.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from hef_graph.console.records import ThreadSummary

SCHEMA = """CREATE TABLE IF NOT EXISTS threads (
    thread_id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL, updated REAL NOT NULL, paused REAL)"""


class ThreadIndex:
    """Threads by owner, newest first; paused threads, oldest pause first."""

    def __init__(self, path: Path) -> None:
        """Open (creating if needed) the table in ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute(SCHEMA)
        self._lock = threading.Lock()

    def add(self, thread_id: str, owner: str, title: str) -> None:
        """Record a new thread of ``owner``."""
        with self._lock:
            self._connection.execute("INSERT OR IGNORE INTO threads VALUES (?, ?, ?, ?, NULL)",
                                     (thread_id, owner, title, time.time()))  # fmt: skip

    def entry(self, thread_id: str) -> tuple[str, str] | None:
        """The thread's owner and title; None for a thread this console never started."""
        with self._lock:
            row = self._connection.execute(
                "SELECT owner, title FROM threads WHERE thread_id = ?", (thread_id,)
            ).fetchone()
        return (row[0], row[1]) if row else None

    def touch(self, thread_id: str, paused: bool) -> None:
        """Note a turn's end: the thread moves to the top of its owner's list; mark or clear its pause."""
        now = time.time()
        with self._lock:
            self._connection.execute(
                "UPDATE threads SET updated = ?, paused = CASE WHEN ? THEN COALESCE(paused, ?) ELSE NULL END "
                "WHERE thread_id = ?",
                (now, paused, now, thread_id),
            )

    def of(self, owner: str) -> list[ThreadSummary]:
        """The owner's threads, the most recently used first."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT thread_id, title, updated, paused FROM threads WHERE owner = ? ORDER BY updated DESC", (owner,)
            ).fetchall()
        return [ThreadSummary(row[0], row[1], row[2], row[3] is not None) for row in rows]

    def paused(self) -> list[tuple[str, float]]:
        """Every thread marked as waiting for a reviewer with when it paused, the oldest first."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT thread_id, paused FROM threads WHERE paused IS NOT NULL ORDER BY paused"
            ).fetchall()
        return [(thread_id, paused) for thread_id, paused in rows]
