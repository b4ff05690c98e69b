"""Typed records the console's pages read, and the faults it reports, whatever backend answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from hef_graph.auth.tokens import Identity
from hef_graph.trace import GraphShape, TurnTrace

EventKind = Literal["thread", "token", "step", "done", "error"]


@dataclass(frozen=True)
class Visitor:
    """Who is using the page.

    Their identity, the token to forward to a LangGraph server, and whether it is the one local person of a
    console without authentication (who also reviews hand-offs).
    """

    identity: Identity
    token: str | None = None
    local: bool = False

    @property
    def can_review(self) -> bool:
        """Whether the inbox is open to this visitor."""
        return self.local or self.identity.is_reviewer

    @property
    def can_chat(self) -> bool:
        """Reviewers answer hand-offs only (issue 36): they have no threads or memories of their own."""
        return self.local or not self.identity.is_reviewer


@dataclass(frozen=True)
class ThreadSummary:
    """One line of the person's thread list."""

    thread_id: str
    title: str
    updated: float
    """Seconds since the epoch."""
    waiting: bool = False
    """A turn of this thread waits for a reviewer."""


@dataclass
class ThreadView:
    """A whole thread as the chat page shows it: finished turns with their traces, then what is still open."""

    thread_id: str
    title: str
    version: str
    """The thread's latest checkpoint: a page that sends with an older one is stale."""
    shape: GraphShape
    turns: list[TurnTrace] = field(default_factory=list)
    open_messages: list[str] = field(default_factory=list)
    """The person's messages after the last finished turn (waiting for a reviewer, or for a retry)."""
    waiting_reason: str | None = None
    """Why the open turn waits for a person (a hand-off reason); None when it does not."""
    failed: bool = False
    """The open turn stopped on a fault (the LLM down): a retry finishes it."""


@dataclass(frozen=True)
class Pause:
    """A turn paused for a hand-off, as the inbox lists it."""

    thread_id: str
    pause_id: str
    """The interrupt's id: a resume names it, so an answer never lands on a later pause of the same thread."""
    reason: str
    dialogue: list[str]
    emotion: str | None
    reading: list[tuple[str, float]]
    """The SEM's most likely emotions with their probabilities (empty when no model ran)."""
    draft: str | None
    since: float
    """When the turn paused, in seconds since the epoch: the inbox lists the oldest first."""
    error: str | None = None
    """Why a previous answer was refused (the thread still waits)."""


@dataclass(frozen=True)
class Memory:
    """One item of the person's emotional memory."""

    key: str
    time: str
    emotion: str
    cause: str
    thread_id: str | None


@dataclass(frozen=True)
class TurnEvent:
    """One server-sent event of a streaming turn: ``thread`` (its id), ``token``, ``step``, ``done``, ``error``."""

    kind: EventKind
    data: dict[str, Any]


class ConsoleFault(Exception):
    """A request the console refuses, with the HTTP status and a message the page shows as is."""

    status = 400

    def __init__(self, message: str) -> None:
        """Keep the message for the page."""
        super().__init__(message)
        self.message = message


class BadMessage(ConsoleFault):
    """The message is empty or too long; nothing was stored or sent."""

    status = 422


class NotYours(ConsoleFault):
    """The visitor may not see or do this."""

    status = 403


class UnknownThread(ConsoleFault):
    """No such thread for this visitor."""

    status = 404


class Busy(ConsoleFault):
    """A turn is already running on the thread; this one was not sent."""

    status = 409


class StaleThread(ConsoleFault):
    """The page shows an older state of the thread than the store holds; it must reload before sending."""

    status = 409


class AlreadyAnswered(ConsoleFault):
    """The hand-off was already resumed (by another reviewer, or in another window)."""

    status = 409
