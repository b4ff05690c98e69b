"""LangGraph server authentication and authorization for HEF (``langgraph.json`` names ``auth`` here).

Every request is authenticated by a ``TokenVerifier`` (``hef_graph.auth.config``); the handlers below apply
``hef_graph.auth.policy``: a person reaches only what they own, a reviewer only the threads paused for a
hand-off, and anything not named here is refused. A reviewer's access is checked against the thread's live
status through the server's own in-process client, which runs without authentication by design.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar, get_args

from langgraph_sdk import Auth
from langgraph_sdk.auth.types import StudioUser

from hef_graph.auth import policy
from hef_graph.auth.config import LOCAL_PERSON, verifier_from_env
from hef_graph.auth.tokens import Identity, TokenRefused, TokenVerifier, bearer_token
from hef_graph.handoff import HandoffReason

log = logging.getLogger(__name__)
Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])
T = TypeVar("T")
HANDOFF_REASONS = frozenset(get_args(HandoffReason))
NOT_PAUSED = "this thread is not paused for a hand-off (already answered, or never paused)"


def refusals_as_http(handler: Handler) -> Handler:
    """Answer a policy refusal with its HTTP status and message instead of a server error."""

    @functools.wraps(handler)
    async def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return await handler(*args, **kwargs)
        except (policy.Refused, TokenRefused) as refusal:
            status = refusal.status if isinstance(refusal, policy.Refused) else 401
            raise Auth.exceptions.HTTPException(status_code=status, detail=str(refusal)) from None

    return run  # type: ignore[return-value]


def identity_of(ctx: Auth.types.AuthContext) -> Identity:
    """The request's authenticated identity; Studio's unauthenticated user is refused."""
    user = ctx.user
    if isinstance(user, StudioUser) or not getattr(user, "is_authenticated", False):
        raise policy.Refused("this server needs a bearer token from hef token", status=401)
    return Identity(str(user.identity), "reviewer" if "reviewer" in (ctx.permissions or []) else "person")


async def live_thread(thread_id: object) -> dict[str, Any]:
    """The thread as the server stores it now; empty when there is none (or the id is malformed)."""
    if thread_id is None:
        return {}
    try:
        return await outside_the_request(fetch_thread(str(thread_id)))
    except Exception:  # noqa: BLE001 - an unknown or unreadable thread gives a reviewer nothing
        return {}


async def fetch_thread(thread_id: str) -> dict[str, Any]:
    """Read a thread through the server's in-process client (no authentication)."""
    from langgraph_sdk import get_client

    return dict(await get_client().threads.get(thread_id))


def outside_the_request(work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """Run ``work`` in a fresh context, outside the caller's identity.

    The server keeps the caller's identity in context variables, and an in-process call that inherited them
    would be authorized as the caller again (and land back here).
    """
    return contextvars.Context().run(asyncio.get_running_loop().create_task, work)


def paused_for_handoff(thread: dict[str, Any]) -> bool:
    """Whether the thread waits for a person right now."""
    pauses = [pause for group in (thread.get("interrupts") or {}).values() for pause in group]
    return thread.get("status") == policy.PAUSED and any(
        isinstance(pause.get("value"), dict) and pause["value"].get("reason") in HANDOFF_REASONS for pause in pauses
    )


def answered_by(thread: dict[str, Any], identity: Identity) -> bool:
    """Whether the thread's current turn is one this reviewer answered (until the person writes again)."""
    decision = (thread.get("values") or {}).get("handoff")
    return isinstance(decision, dict) and decision.get("reviewer") == identity.user_id


async def require_paused(thread_id: object) -> None:
    """Refuse a reviewer's resume of a thread that is not paused for a hand-off."""
    if not paused_for_handoff(await live_thread(thread_id)):
        raise policy.Refused(NOT_PAUSED, 409)


async def require_reviewable(value: dict[str, Any], identity: Identity) -> None:
    """Refuse a reviewer's read of anything but a paused thread, their resume in flight, or the turn they answered."""
    thread = await live_thread(value.get("thread_id"))
    if paused_for_handoff(thread) or answered_by(thread, identity):
        return
    if thread and await resuming(thread["thread_id"], identity):
        return
    raise policy.Refused(NOT_PAUSED, 409)


async def resuming(thread_id: object, identity: Identity) -> bool:
    """Whether a resume this reviewer started (``policy.sign_resume`` stamps it) is pending or running."""
    from langgraph_sdk import get_client

    try:
        runs = await outside_the_request(get_client().runs.list(str(thread_id), limit=10))
    except Exception:  # noqa: BLE001 - no runs to show: nothing in flight
        return False
    return any(
        run.get("status") in ("pending", "running")
        and (run.get("metadata") or {}).get(policy.RESUMED_BY) == identity.user_id
        for run in runs
    )


def authenticate_with(verifier: TokenVerifier | None) -> Callable[[str | None], Awaitable[Auth.types.MinimalUserDict]]:
    """The authentication handler: the verified token's identity, or the local person when auth is off."""

    @refusals_as_http
    async def authenticate(authorization: str | None) -> Auth.types.MinimalUserDict:
        if verifier is None:
            return {"identity": LOCAL_PERSON, "permissions": ["person"], "is_authenticated": True}
        identity = verifier.verify(bearer_token(authorization))
        return {"identity": identity.user_id, "permissions": [identity.role], "is_authenticated": True}

    return authenticate


def build_auth(verifier: TokenVerifier | None) -> Auth:
    """LangGraph's ``Auth`` for HEF with ``verifier`` (None: authentication off, one local person)."""
    auth = Auth()
    auth.authenticate(authenticate_with(verifier))
    register_threads(auth)
    register_fixed_assistants(auth)
    register_crons(auth)
    register_store(auth)

    @auth.on
    @refusals_as_http
    async def refuse_the_rest(ctx: Auth.types.AuthContext, value: Any) -> bool:
        raise policy.Refused(f"{ctx.resource}.{ctx.action} is not offered by this server")

    return auth


def register_threads(auth: Auth) -> None:
    """Threads (and their runs, state and history): the owner's alone; paused ones also a reviewer's."""

    @auth.on.threads.create
    @refusals_as_http
    async def create(ctx: Auth.types.AuthContext, value: Any) -> dict[str, str]:
        return policy.claim(identity_of(ctx), value)

    @auth.on.threads.create_run
    @refusals_as_http
    async def run(ctx: Auth.types.AuthContext, value: Any) -> dict[str, str] | None:
        identity = identity_of(ctx)
        policy.check_run(identity, value)
        if identity.is_reviewer:
            await require_paused(value.get("thread_id"))
            policy.sign_resume(identity, value)
            return None
        return policy.claim(identity, value)

    @auth.on.threads.read
    @refusals_as_http
    async def read(ctx: Auth.types.AuthContext, value: Any) -> dict[str, str] | None:
        identity = identity_of(ctx)
        if identity.is_reviewer:
            await require_reviewable(value, identity)
            return None
        return policy.owner_filter(identity)

    @auth.on.threads.search
    @refusals_as_http
    async def search(ctx: Auth.types.AuthContext, value: Any) -> dict[str, str] | None:
        identity = identity_of(ctx)
        policy.check_reviewer_search(identity, value)
        return None if identity.is_reviewer else policy.owner_filter(identity)

    @refusals_as_http
    async def change(ctx: Auth.types.AuthContext, value: Any) -> dict[str, str]:
        identity = identity_of(ctx)
        policy.refuse_reviewer(identity, "change or delete threads")
        if isinstance(value.get("metadata"), dict):
            value["metadata"][policy.OWNER] = identity.user_id  # an update may not hand the thread to someone else
        return policy.owner_filter(identity)

    auth.on.threads.update(change)
    auth.on.threads.delete(change)


def register_fixed_assistants(auth: Auth) -> None:
    """The deployment fixes its assistants (their context could name a person): read them, change none."""

    @refusals_as_http
    async def read(ctx: Auth.types.AuthContext, value: Any) -> None:
        identity_of(ctx)

    auth.on.assistants.read(read)
    auth.on.assistants.search(read)

    @auth.on.assistants
    @refusals_as_http
    async def change(ctx: Auth.types.AuthContext, value: Any) -> None:
        raise policy.Refused("assistants are fixed by the deployment: they cannot be created, changed or deleted")


def register_crons(auth: Auth) -> None:
    """Crons run as their owner: created with an owner, seen and changed by the owner alone."""

    @auth.on.crons.create
    @refusals_as_http
    async def create(ctx: Auth.types.AuthContext, value: Any) -> dict[str, str]:
        identity = identity_of(ctx)
        policy.check_run(identity, {"kwargs": value.get("payload") or {}})
        return policy.claim(identity, value)

    @auth.on.crons
    @refusals_as_http
    async def others(ctx: Auth.types.AuthContext, value: Any) -> dict[str, str]:
        identity = identity_of(ctx)
        policy.refuse_reviewer(identity, "use crons")
        return policy.owner_filter(identity)


def register_store(auth: Auth) -> None:
    """The store: each person's own memory namespace only."""

    @auth.on.store()
    @refusals_as_http
    async def store(ctx: Auth.types.AuthContext, value: Any) -> None:
        value["namespace"] = policy.store_namespace(identity_of(ctx), ctx.action, value.get("namespace"))


auth = build_auth(verifier_from_env())
