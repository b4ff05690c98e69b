"""The console's settings, in one object: where it listens, what it runs against, and its limits."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from hef_graph.persistence import user_data_dir

MAX_MESSAGE_CHARS = 4000
"""A longer message is refused before anything is stored: the prompts keep only the last 1,500 characters,
so a pasted document would be cut silently; the person is told to shorten it instead."""


@dataclass(frozen=True, kw_only=True)
class ConsoleSettings:
    """Everything ``hef console`` reads; every field has a default that works on one machine, offline."""

    host: str = "127.0.0.1"
    port: int = 8700
    server: str | None = None
    """A LangGraph server's URL (``langgraph dev``, or a deployment); None runs the graph in this process."""
    data_dir: Path | None = None
    """Where the in-process threads, memories and thread list live (default: the per-user data folder)."""
    llm: str | None = None
    """A ``load_llm`` spec for the in-process graph (default: ``load_llm()``'s, or ``$HEF_LLM``)."""
    packets: Path | None = None
    """A folder of rating packets (each a ``hef rate-export`` folder); raters open ``/rate/<folder name>``."""
    max_message_chars: int = MAX_MESSAGE_CHARS
    inbox_poll_s: float = 1.0
    """How often the inbox and a waiting chat page look for changes."""
    warm: bool = True
    """Load the models at start (in process), so the first person does not wait for them."""

    def __post_init__(self) -> None:
        """Refuse settings that cannot work, with what to change."""
        if not 0 < self.port < 65536:
            raise ValueError(f"--port must be between 1 and 65535, got {self.port}")
        if self.server is not None and not self.server.startswith(("http://", "https://")):
            raise ValueError(f"--server must be an http(s) URL such as http://127.0.0.1:2024, got {self.server!r}")
        if self.packets is not None and not self.packets.is_dir():
            raise ValueError(f"--packets {self.packets} is not a folder")
        if self.max_message_chars < 1 or self.inbox_poll_s <= 0:
            raise ValueError("max_message_chars must be >= 1 and inbox_poll_s > 0")

    @property
    def folder(self) -> Path:
        """The in-process data folder (threads, memories, the thread list)."""
        return self.data_dir or user_data_dir()

    @property
    def loopback(self) -> bool:
        """Whether only this machine can reach the console."""
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return self.host == "localhost"


def auth_configured() -> bool:
    """Whether the environment names a token verifier (``HEF_AUTH_SECRET`` or ``HEF_AUTH_VERIFIER``)."""
    return bool(os.environ.get("HEF_AUTH_SECRET") or os.environ.get("HEF_AUTH_VERIFIER"))
