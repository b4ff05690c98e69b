"""The console's web app (Starlette): server-rendered pages, server-sent events, and small scripts of its own.

Pages: ``/`` chat with each turn's trace, ``/memories``, ``/inbox`` for reviewers, ``/rate`` for raters,
``/login``. Every asset is served from this package; no page loads anything from another machine.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from hef_graph.auth.tokens import TokenRefused
from hef_graph.console.gate import TOKEN_COOKIE, Gate
from hef_graph.console.packets import RankingFiles, packet_names, ranks_of, read_packet
from hef_graph.console.records import (
    BadMessage,
    ConsoleFault,
    Memory,
    Pause,
    ThreadSummary,
    ThreadView,
    TurnEvent,
    Visitor,
)
from hef_graph.console.settings import ConsoleSettings
from hef_graph.console.views import turn_rows
from hef_graph.trace import TURN_CSS

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
RATER_COOKIE = "hef_rater"


class Backend(Protocol):
    """What the pages need, in process (``LocalBackend``) or from a LangGraph server (``ServedBackend``)."""

    def warm_up(self) -> None:
        """Load what the first turn would otherwise wait for."""
        ...

    async def threads(self, visitor: Visitor) -> list[ThreadSummary]:
        """The visitor's threads, newest first."""
        ...

    async def thread(self, visitor: Visitor, thread_id: str) -> ThreadView:
        """One of the visitor's threads with its finished turns' traces."""
        ...

    async def start_turn(
        self, visitor: Visitor, thread_id: str | None, text: str, version: str
    ) -> AsyncIterator[TurnEvent]:
        """Check the thread, then return the turn's events."""
        ...

    async def retry(self, visitor: Visitor, thread_id: str, version: str) -> AsyncIterator[TurnEvent]:
        """Finish a turn that stopped on a fault."""
        ...

    async def inbox(self, visitor: Visitor) -> list[Pause]:
        """The turns paused for a hand-off, oldest first."""
        ...

    async def resume(self, visitor: Visitor, thread_id: str, pause_id: str, action: str, reply: str | None) -> None:
        """Answer one pause, once."""
        ...

    async def memories(self, visitor: Visitor) -> list[Memory]:
        """The visitor's memories."""
        ...

    async def forget(self, visitor: Visitor, key: str | None) -> int:
        """Forget one memory, or all."""
        ...


class Console:
    """The routes, holding the settings, the gate, the backend and the rating files."""

    def __init__(self, settings: ConsoleSettings, gate: Gate, backend: Backend) -> None:
        """Wire the parts; templates and static files come from this package."""
        self.settings, self.gate, self.backend = settings, gate, backend
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.rankings = RankingFiles(settings.packets) if settings.packets else None
        self.ready = threading.Event()

    # ----- pages ------------------------------------------------------------------------------

    async def chat_page(self, request: Request) -> Response:
        """The chat: the visitor's threads, the open thread's turns with their traces, the message box."""
        visitor = self.visitor(request)
        thread_id = request.path_params.get("thread_id")
        view = await self.backend.thread(visitor, thread_id) if thread_id else None
        threads = await self.backend.threads(visitor) if visitor.can_chat else []
        return self.page(request, "chat.html", visitor, threads=threads, view=view, rows=turn_rows,
                         max_chars=self.settings.max_message_chars)  # fmt: skip

    async def thread_fragment(self, request: Request) -> Response:
        """The open thread's turns alone (the page swaps them in after a turn, or once a reviewer answered)."""
        view = await self.backend.thread(self.visitor(request), request.path_params["thread_id"])
        return self.templates.TemplateResponse(request, "_thread.html", {"view": view, "rows": turn_rows})

    async def thread_status(self, request: Request) -> Response:
        """The thread's version and whether it waits: what a waiting page polls."""
        view = await self.backend.thread(self.visitor(request), request.path_params["thread_id"])
        return JSONResponse({"version": view.version, "waiting": view.waiting_reason, "failed": view.failed})

    async def memories_page(self, request: Request) -> Response:
        """The visitor's own memories, each with a button that forgets it."""
        visitor = self.visitor(request)
        return self.page(request, "memories.html", visitor, memories=await self.backend.memories(visitor))

    async def inbox_page(self, request: Request) -> Response:
        """The reviewer's inbox (the list comes live from ``inbox_events``)."""
        visitor = self.visitor(request)
        return self.page(request, "inbox.html", visitor, pauses=await self.backend.inbox(visitor))

    async def rate_index(self, request: Request) -> Response:
        """The packets this console offers."""
        visitor = self.visitor(request)
        names = packet_names(self.settings.packets) if self.settings.packets else []
        return self.page(request, "rate_index.html", visitor, names=names, folder=self.settings.packets)

    async def rate_page(self, request: Request) -> Response:
        """One packet for one rater (a name is asked for when authentication is off)."""
        visitor = self.visitor(request)
        name = request.path_params["packet"]
        dialogues = read_packet(self._packets(), name)
        rater = self.rater(request, visitor)
        response = self.page(request, "rate.html", visitor, packet=name, rater=rater, count=len(dialogues))
        if rater and request.query_params.get("rater"):
            response.set_cookie(RATER_COOKIE, rater, httponly=True, samesite="strict")
        return response

    async def login_page(self, request: Request) -> Response:
        """Sign in with a token (pasted, or in a link's ``token``)."""
        token = request.query_params.get("token")
        if token:
            return self.sign_in(token, request.query_params.get("next", "/"))
        return self.templates.TemplateResponse(request, "login.html", {
            "why": request.query_params.get("why"), "next": request.query_params.get("next", "/"), "visitor": None,
            "auth_on": self.gate.auth_on})  # fmt: skip

    async def login(self, request: Request) -> Response:
        """The pasted token: checked, then kept in a cookie."""
        form = await request.form()
        return self.sign_in(str(form.get("token", "")).strip(), str(form.get("next", "/")))

    def sign_in(self, token: str, next_page: str) -> Response:
        """Check the token, keep it in an HttpOnly cookie and go on (only to a page of this console)."""
        try:
            self.gate.visitor(token)
        except TokenRefused as refusal:
            return RedirectResponse(f"/login?why={quote(str(refusal))}&next={quote(next_page)}", status_code=303)
        target = next_page if next_page.startswith("/") and not next_page.startswith("//") else "/"
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        return response

    async def logout(self, request: Request) -> Response:
        """Forget the token."""
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(TOKEN_COOKIE)
        response.delete_cookie(RATER_COOKIE)
        return response

    # ----- actions ----------------------------------------------------------------------------

    async def send(self, request: Request) -> Response:
        """A person's message: checked, then the turn streams back as server-sent events."""
        visitor, body = self.visitor(request), await _json(request)
        text = str(body.get("text", ""))
        self.check_message(text)
        events = await self.backend.start_turn(visitor, body.get("thread_id") or None, text,
                                               str(body.get("version", "")))  # fmt: skip
        return EventSourceResponse(_as_sse(events), ping=10)

    async def retry(self, request: Request) -> Response:
        """Finish the thread's turn that stopped on a fault."""
        visitor, body = self.visitor(request), await _json(request)
        events = await self.backend.retry(visitor, request.path_params["thread_id"], str(body.get("version", "")))
        return EventSourceResponse(_as_sse(events), ping=10)

    async def forget(self, request: Request) -> Response:
        """Forget one memory (``key``) or all of them."""
        visitor, body = self.visitor(request), await _json(request)
        key = body.get("key")
        return JSONResponse({"forgotten": await self.backend.forget(visitor, str(key) if key else None)})

    async def inbox_events(self, request: Request) -> Response:
        """The inbox list as server-sent events: sent again whenever it changes."""
        visitor = self.visitor(request)
        await self.backend.inbox(visitor)  # refuses a visitor who is not a reviewer before the stream opens
        return EventSourceResponse(self._inbox_updates(request, visitor), ping=15)

    async def resume(self, request: Request) -> Response:
        """A reviewer's answer to one pause: send, edit or take over (hand back on a taken-over thread)."""
        visitor, body = self.visitor(request), await _json(request)
        action, reply = str(body.get("action", "")), body.get("reply")
        if reply is not None:
            self.check_message(str(reply))
        await self.backend.resume(visitor, str(body.get("thread_id", "")), str(body.get("pause_id", "")), action,
                                  str(reply) if reply is not None else None)  # fmt: skip
        return JSONResponse({"done": action})

    async def rate_data(self, request: Request) -> Response:
        """The packet's dialogues and this rater's rankings so far."""
        visitor, name = self.visitor(request), request.path_params["packet"]
        dialogues = read_packet(self._packets(), name)
        rankings = self._rankings().load(name, self._require_rater(request, visitor))
        return JSONResponse({
            "dialogues": [{"number": d.number, "turns": d.turns, "replies": d.replies} for d in dialogues],
            "ranks": {str(number): ranks_of(line) for number, line in rankings.items()},
        })  # fmt: skip

    async def rate_save(self, request: Request) -> Response:
        """One dialogue's ranking by this rater."""
        visitor, name, body = self.visitor(request), request.path_params["packet"], await _json(request)
        number = int(request.path_params["number"])
        dialogue = next((d for d in read_packet(self._packets(), name) if d.number == number), None)
        if dialogue is None:
            raise ConsoleFault(f"Packet {name!r} has no dialogue {number}.")
        ranks = body.get("ranks")
        if not isinstance(ranks, dict):
            raise ConsoleFault("Send the ranks as {letter: rank}.")
        saved = self._rankings().save(name, self._require_rater(request, visitor), dialogue, ranks)
        return JSONResponse({"ranked": len(saved)})

    async def health(self, request: Request) -> Response:
        """Whether the models are loaded (tests and scripts wait for this)."""
        return JSONResponse({"ready": self.ready.is_set()})

    async def trace_css(self, request: Request) -> Response:
        """The trace's own style, as ``hef trace`` writes it (one source for both)."""
        return Response(TURN_CSS, media_type="text/css")

    # ----- helpers ----------------------------------------------------------------------------

    def visitor(self, request: Request) -> Visitor:
        """The request's visitor; TokenRefused when it carries no acceptable token."""
        return self.gate.visitor(request.cookies.get(TOKEN_COOKIE))

    def rater(self, request: Request, visitor: Visitor) -> str | None:
        """The rater's name: the signed-in person, else the link's or the cookie's name (authentication off)."""
        if not visitor.local:
            return visitor.identity.user_id
        name = request.query_params.get("rater") or request.cookies.get(RATER_COOKIE)
        return name.strip() if name and name.strip() else None

    def _require_rater(self, request: Request, visitor: Visitor) -> str:
        rater = self.rater(request, visitor)
        if rater is None:
            raise ConsoleFault("Give your name as a rater first (reload the page).")
        return rater

    def _packets(self) -> Path:
        if self.settings.packets is None:
            raise ConsoleFault("This console has no packets: start it with hef console --packets FOLDER.")
        return self.settings.packets

    def _rankings(self) -> RankingFiles:
        if self.rankings is None:
            raise ConsoleFault("This console has no packets: start it with hef console --packets FOLDER.")
        return self.rankings

    def check_message(self, text: str) -> None:
        """Refuse an empty or too long message before anything is stored or sent."""
        if not text.strip():
            raise BadMessage("Write a message first: an empty one is not sent.")
        if len(text) > self.settings.max_message_chars:
            raise BadMessage(f"Your message is {len(text):,} characters; the limit is "
                             f"{self.settings.max_message_chars:,}. Shorten it: nothing was sent.")  # fmt: skip

    def page(self, request: Request, template: str, visitor: Visitor, **context: Any) -> Response:
        """A full page, with who is signed in (or that authentication is off) in its header."""
        return self.templates.TemplateResponse(
            request, template, {"visitor": visitor, "auth_on": self.gate.auth_on, "server": self.settings.server,
                                "poll_ms": int(self.settings.inbox_poll_s * 1000), **context},
        )  # fmt: skip

    async def _inbox_updates(self, request: Request, visitor: Visitor) -> AsyncIterator[dict[str, str]]:
        last = None
        template = self.templates.get_template("_inbox_list.html")
        while not await request.is_disconnected():
            try:
                pauses = await self.backend.inbox(visitor)
            except ConsoleFault as fault:
                yield {"event": "fault", "data": fault.message}
                return
            listed = template.render(pauses=pauses)
            if listed != last:
                last = listed
                yield {"event": "inbox", "data": json.dumps({"html": listed, "count": len(pauses)})}
            await asyncio.sleep(self.settings.inbox_poll_s)

    # ----- errors -----------------------------------------------------------------------------

    async def on_fault(self, request: Request, error: Exception) -> Response:
        """A refused request: JSON for the scripts, a page for people."""
        fault = error if isinstance(error, ConsoleFault) else ConsoleFault(str(error))
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": fault.message}, status_code=fault.status)
        return self.templates.TemplateResponse(request, "problem.html", {"message": fault.message, "visitor": None,
                                               "auth_on": self.gate.auth_on}, status_code=fault.status)  # fmt: skip

    async def on_refused_token(self, request: Request, error: Exception) -> Response:
        """No token, or one refused: the scripts get 401, people the sign-in page with the reason."""
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": f"Sign in again: {error}"}, status_code=401)
        return RedirectResponse(f"/login?why={quote(str(error))}&next={quote(str(request.url.path))}", 303)


def build_app(settings: ConsoleSettings, gate: Gate, backend: Backend) -> Starlette:
    """The Starlette app; loads the models in the background at start when ``settings.warm``."""
    console = Console(settings, gate, backend)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        threading.Thread(target=_warm, args=(backend, console.ready, settings.warm), daemon=True).start()
        yield

    routes = [
        Route("/", console.chat_page),
        Route("/threads/{thread_id}", console.chat_page),
        Route("/api/threads/{thread_id}/view", console.thread_fragment),
        Route("/api/threads/{thread_id}/status", console.thread_status),
        Route("/memories", console.memories_page),
        Route("/inbox", console.inbox_page),
        Route("/inbox/events", console.inbox_events),
        Route("/rate", console.rate_index),
        Route("/rate/{packet}", console.rate_page),
        Route("/login", console.login_page, methods=["GET"]),
        Route("/login", console.login, methods=["POST"]),
        Route("/logout", console.logout),
        Route("/healthz", console.health),
        Route("/api/turns", console.send, methods=["POST"]),
        Route("/api/threads/{thread_id}/retry", console.retry, methods=["POST"]),
        Route("/api/memories/forget", console.forget, methods=["POST"]),
        Route("/api/inbox/resume", console.resume, methods=["POST"]),
        Route("/api/rate/{packet}", console.rate_data),
        Route("/api/rate/{packet}/{number:int}", console.rate_save, methods=["POST"]),
        Route("/static/trace.css", console.trace_css),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    handlers: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
        ConsoleFault: console.on_fault, TokenRefused: console.on_refused_token,
    }  # fmt: skip
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers=handlers)


def backend_for(settings: ConsoleSettings) -> Backend:
    """The graph in this process, or the LangGraph server at ``settings.server`` (each imports only its own)."""
    if settings.server:
        from hef_graph.console.served import ServedBackend

        return ServedBackend(settings)
    from hef_graph.console.local import LocalBackend

    return LocalBackend(settings)


def _warm(backend: Backend, ready: threading.Event, warm: bool) -> None:
    try:
        if warm:
            backend.warm_up()
    except Exception:  # noqa: BLE001 - a failed warm-up is not fatal: the first turn loads and reports it
        log.exception("warming the models failed; the first turn will load them")
    finally:
        ready.set()


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ConsoleFault("The request's body must be JSON.") from None
    if not isinstance(body, dict):
        raise ConsoleFault("The request's body must be a JSON object.")
    return body


async def _as_sse(events: AsyncIterator[TurnEvent]) -> AsyncIterator[dict[str, str]]:
    async for event in events:
        yield {"event": event.kind, "data": json.dumps(event.data)}
