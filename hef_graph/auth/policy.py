"""Who may touch what, as plain functions of an Identity: the served graph's authorization rules.

A person owns the threads, runs and crons they create (their id in ``metadata["owner"]``) and the memory
namespace of their own id, and nothing else. A reviewer lists and resumes threads paused for a hand-off, and
nothing else. Every refusal is a ``Refused`` with the HTTP status and a message that says what was refused;
the server module (``hef_graph.auth.server``) turns these rules into LangGraph's authorization handlers.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from hef_graph.auth.identity import OWNER
from hef_graph.auth.tokens import Identity
from hef_graph.memory import user_namespace

RESUMED_BY = "resumed_by"
"""The metadata key of a reviewer's resume run: who answered (the reviewer may read that run)."""
PAUSED = "interrupted"
"""The server's status of a thread waiting on an interrupt; in HEF's graph only hand_off interrupts."""


class Refused(PermissionError):
    """The caller may not do this; ``status`` is the HTTP status the server answers with."""

    def __init__(self, message: str, status: int = 403) -> None:
        """Keep the status beside the message."""
        super().__init__(message)
        self.status = status


def owner_filter(identity: Identity) -> dict[str, str]:
    """The metadata filter that limits a read, search, update or delete to the caller's own resources."""
    return {OWNER: identity.user_id}


def claim(identity: Identity, value: MutableMapping[str, Any]) -> dict[str, str]:
    """Stamp a new thread, run or cron with its owner (whatever owner the client wrote), and filter by it."""
    refuse_reviewer(identity, "create threads, runs or crons")
    metadata = value.get("metadata")
    if not isinstance(metadata, MutableMapping):
        metadata = value["metadata"] = {}
    metadata[OWNER] = identity.user_id
    return owner_filter(identity)


def refuse_reviewer(identity: Identity, what: str) -> None:
    """Reviewers answer hand-offs only: refuse anything else they ask for."""
    if identity.is_reviewer:
        raise Refused(f"a reviewer may not {what}: reviewers list and resume threads paused for a hand-off only")


def check_run(identity: Identity, value: Mapping[str, Any]) -> None:
    """Refuse a run that names another person, and a reviewer's run that is not the resume of a hand-off."""
    kwargs = value.get("kwargs") or {}
    named = named_user(kwargs)
    if named is not None and named != identity.user_id and not identity.is_reviewer:
        raise Refused(f"context.user_id {named!r} is not you: a run works on the authenticated person's data only")
    if identity.is_reviewer and (not resumes(kwargs) or kwargs.get("input") is not None):
        raise Refused("a reviewer's run must resume a paused hand-off: command={'resume': {...}} and no input")


def sign_resume(identity: Identity, value: MutableMapping[str, Any]) -> None:
    """Record the authenticated reviewer as the one who answered, whatever the resume value claimed.

    Both the decision (``HandoffDecision.reviewer``) and the run's metadata name them: the record says who
    really spoke to the person, and the reviewer may read the run they started.
    """
    command = value["kwargs"]["command"]
    answer = command["resume"]
    command["resume"] = {"action": answer} if isinstance(answer, str) else {**answer}
    command["resume"]["reviewer"] = identity.user_id
    metadata = value.get("metadata")
    if not isinstance(metadata, MutableMapping):
        metadata = value["metadata"] = {}
    metadata[RESUMED_BY] = identity.user_id


def named_user(kwargs: Mapping[str, Any]) -> str | None:
    """The user id a run's context or configurable names, if any."""
    for source in (kwargs.get("context"), (kwargs.get("config") or {}).get("configurable")):
        if isinstance(source, Mapping) and source.get("user_id") is not None:
            return str(source["user_id"])
    return None


def resumes(kwargs: Mapping[str, Any]) -> bool:
    """Whether a run's command resumes an interrupt (and does nothing else: no goto, no state update)."""
    command = kwargs.get("command")
    return isinstance(command, Mapping) and set(command) <= {"resume"} and command.get("resume") is not None


def check_reviewer_search(identity: Identity, value: Mapping[str, Any]) -> None:
    """A reviewer's thread search must ask for paused threads only (the inbox)."""
    if identity.is_reviewer and value.get("status") != PAUSED:
        raise Refused(f"a reviewer lists only threads paused for a hand-off: search with status='{PAUSED}'")


def store_namespace(identity: Identity, action: str, namespace: tuple[str, ...] | None) -> tuple[str, ...]:
    """The namespace a store call may use: the caller's own memory, or a search prefix narrowed to it.

    A search or listing over a prefix of the caller's namespace (all of ``hef_memory``, or everything) is
    narrowed to the caller's own; any other namespace is refused.
    """
    refuse_reviewer(identity, "use the memory store")
    own = user_namespace(identity.user_id)
    asked = tuple(namespace or ())
    if asked[: len(own)] == own:
        return asked
    if action in ("search", "list_namespaces") and own[: len(asked)] == asked:
        return own
    raise Refused(f"the store namespace {list(asked)} is not yours: you may use {list(own)} only")
