"""The person a run acts for: the authenticated caller when the graph is served, the Context's id in process.

LangGraph's server puts the authenticated user into every run's ``configurable`` (``langgraph_auth_user_id``
and ``langgraph_auth_permissions``); a client cannot set those keys itself. A reviewer's run (the resume of a
hand-off) acts for the thread's owner, whose id the thread's metadata carries into the run's ``metadata``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hef_graph.errors import IdentityMismatch

OWNER = "owner"
"""The metadata key of the person a thread belongs to (``hef_graph.auth.policy`` writes it)."""


def served_person(config: Mapping[str, Any]) -> str | None:
    """The authenticated person a served run acts for; None in process, where the app says who is talking."""
    configurable = config.get("configurable") or {}
    caller = configurable.get("langgraph_auth_user_id")
    if not caller:
        return None
    if "reviewer" in (configurable.get("langgraph_auth_permissions") or ()):
        owner = (config.get("metadata") or {}).get(OWNER)
        return str(owner) if owner else None
    return str(caller)


def person_of_run(named: str | None, config: Mapping[str, Any]) -> str | None:
    """The user id a run's memory uses: the authenticated person, or ``named`` in process.

    A served run whose Context names someone else is refused with IdentityMismatch: the id is never used.
    """
    person = served_person(config)
    if person is None:
        return named
    if named is not None and named != person:
        raise IdentityMismatch(
            f"Context(user_id={named!r}) names another person than the authenticated caller: a served run "
            "works on the caller's own memories only (leave user_id out; the server supplies it)"
        )
    return person
