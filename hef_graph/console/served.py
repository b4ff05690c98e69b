"""The console's backend against a LangGraph server (``hef console --server URL``), through langgraph-sdk.

Every call carries the visitor's own bearer token, so the server's authorization (issue 36) decides what they
see: a person their own threads and memories, a reviewer the paused threads. The server refuses a second
resume of the same pause (HTTP 409), which the inbox reports as already answered.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hef_graph.console.records import (
    AlreadyAnswered,
    Busy,
    ConsoleFault,
    Memory,
    NotYours,
    Pause,
    StaleThread,
    ThreadSummary,
    ThreadView,
    TurnEvent,
    UnknownThread,
    Visitor,
)
from hef_graph.console.settings import ConsoleSettings
from hef_graph.console.turns import fault_event, is_handoff, open_messages, reading, title_of, token_event
from hef_graph.handoff import HandoffRequest, decision_problem
from hef_graph.memory import user_namespace
from hef_graph.trace import GraphShape, turns_from_snapshots

GRAPH = "hef"
"""The graph langgraph.json serves."""
HISTORY = 500
"""Checkpoints read to rebuild a thread's turns (about ten per turn)."""
PAGE = 100


@dataclass(frozen=True)
class ServedSnapshot:
    """A served thread's history entry, read as ``turns_from_snapshots`` reads a checkpoint."""

    next: tuple[str, ...]
    values: dict[str, Any]
    created_at: str | None


class ServedBackend:
    """Threads, turns, hand-offs and memories on a LangGraph server, as the visitor's token allows."""

    def __init__(self, settings: ConsoleSettings) -> None:
        """Remember the server; every request opens a client with the visitor's token."""
        if settings.server is None:
            raise ValueError("the served backend needs --server URL")
        self.url = settings.server
        self._shape: GraphShape | None = None

    def warm_up(self) -> None:
        """Nothing to load here: the server holds the models."""

    async def threads(self, visitor: Visitor) -> list[ThreadSummary]:
        """The visitor's threads (the server filters them by owner), newest first."""
        async with self._client(visitor) as client:
            found = await client.threads.search(limit=PAGE, sort_by="updated_at", sort_order="desc")
        return [_summary(thread) for thread in found]

    async def thread(self, visitor: Visitor, thread_id: str) -> ThreadView:
        """One of the visitor's threads, each finished turn rebuilt from the server's checkpoints."""
        async with self._client(visitor) as client:
            shape = await self._graph_shape(client)
            thread = await client.threads.get(thread_id)
            state = await client.threads.get_state(thread_id)
            history = await client.threads.get_history(thread_id, limit=HISTORY)
        snapshots = [ServedSnapshot(tuple(h.get("next") or ()), h.get("values") or {}, h.get("created_at"))
                     for h in reversed(history)]  # fmt: skip
        turns = turns_from_snapshots(shape, snapshots)
        answered = turns[-1].state.get("messages", []) if turns else []
        values = state.get("values") or {}
        request = next(iter(_pauses(state.get("tasks") or [])), None)
        return ThreadView(
            thread_id, (thread.get("metadata") or {}).get("title") or thread_id, _version(state), shape, turns,
            open_messages(values.get("messages", []) if isinstance(values, dict) else [], answered),
            request[1]["reason"] if request else None, bool(state.get("next")) and request is None,
        )  # fmt: skip

    async def start_turn(
        self, visitor: Visitor, thread_id: str | None, text: str, version: str
    ) -> AsyncIterator[TurnEvent]:
        """Check the page is current, then return the run's event stream (a new thread if ``thread_id`` is None)."""
        async with self._client(visitor) as client:
            if thread_id is None:
                thread_id = (await client.threads.create(metadata={"title": title_of(text)}))["thread_id"]
                announce = True
            else:
                announce = False
                if _version(await client.threads.get_state(thread_id)) != version:
                    raise StaleThread("This thread changed in another window. Reload it to see the latest turn; "
                                      "your message is still in the box.")  # fmt: skip
        payload = {"messages": [{"role": "user", "content": text}]}
        return self._stream(visitor, thread_id, payload, announce)

    async def retry(self, visitor: Visitor, thread_id: str, version: str) -> AsyncIterator[TurnEvent]:
        """Finish a turn that stopped on a fault, from where it stopped."""
        view = await self.thread(visitor, thread_id)
        if not view.failed or view.version != version:
            raise StaleThread("There is nothing to retry on this thread any more: reload it.")
        return self._stream(visitor, thread_id, None, False)

    async def inbox(self, visitor: Visitor) -> list[Pause]:
        """Every thread paused for a hand-off that the server shows this reviewer, the oldest first."""
        if not visitor.can_review:
            raise NotYours("Only a reviewer sees the inbox: sign in with a reviewer token.")
        async with self._client(visitor) as client:
            found = await client.threads.search(status="interrupted", limit=PAGE, sort_by="updated_at",
                                                sort_order="asc")  # fmt: skip
        pauses = []
        for thread in found:
            values = thread.get("values") or {}
            groups = (thread.get("interrupts") or {}).values()
            for pause_id, value in _pauses([{"interrupts": group} for group in groups]):
                pauses.append(Pause(thread["thread_id"], pause_id, value["reason"], value["dialogue"],
                                    value["emotion"], reading(values.get("sem_distribution")), value["draft"],
                                    _epoch(thread.get("updated_at")), value.get("error")))  # fmt: skip
        return pauses

    async def resume(self, visitor: Visitor, thread_id: str, pause_id: str, action: str, reply: str | None) -> None:
        """Resume the pause the reviewer saw; a pause already answered is refused (here, or by the server's 409)."""
        if not visitor.can_review:
            raise NotYours("Only a reviewer answers hand-offs: sign in with a reviewer token.")
        answer: dict[str, Any] = {"action": action} if reply is None else {"action": action, "reply": reply}
        async with self._client(visitor, conflict=AlreadyAnswered(ALREADY)) as client:
            state = await client.threads.get_state(thread_id)
            request = dict(_pauses(state.get("tasks") or [])).get(pause_id)
            if request is None:
                raise AlreadyAnswered(ALREADY)
            problem = decision_problem(answer, request)
            if problem is not None:
                raise ConsoleFault(problem)
            await client.runs.wait(thread_id, GRAPH, command={"resume": answer}, multitask_strategy="reject",
                                   context={"handoff": True, "reviewer": visitor.identity.user_id})  # fmt: skip

    async def memories(self, visitor: Visitor) -> list[Memory]:
        """The visitor's memories (the server narrows the search to their own namespace), newest first."""
        async with self._client(visitor) as client:
            found = await client.store.search_items(list(user_namespace(visitor.identity.user_id)), limit=PAGE)
        memories = [Memory(item["key"], item["value"]["time"], item["value"]["emotion"], item["value"]["cause"],
                           item["value"].get("thread_id")) for item in found["items"]]  # fmt: skip
        return sorted(memories, key=lambda memory: memory.time, reverse=True)

    async def forget(self, visitor: Visitor, key: str | None) -> int:
        """Delete one of the visitor's memories, or all of them (``key`` None); return how many went."""
        namespace = list(user_namespace(visitor.identity.user_id))
        keys = [key] if key is not None else [memory.key for memory in await self.memories(visitor)]
        async with self._client(visitor) as client:
            for item_key in keys:
                await client.store.delete_item(namespace, item_key)
        return len(keys)

    # ----- inside -----------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _client(self, visitor: Visitor, conflict: ConsoleFault | None = None) -> AsyncIterator[Any]:
        """A client carrying the visitor's token; the server's refusals become the console's faults."""
        from langgraph_sdk import get_client

        headers = {"Authorization": f"Bearer {visitor.token}"} if visitor.token else {}
        client = get_client(url=self.url, api_key=None, headers=headers)
        try:
            with _server_faults(conflict):
                yield client
        finally:
            await client.aclose()

    async def _graph_shape(self, client: Any) -> GraphShape:
        if self._shape is None:
            drawn = await client.assistants.get_graph(GRAPH)
            edges = tuple((e["source"], e["target"], bool(e.get("conditional"))) for e in drawn["edges"])
            self._shape = GraphShape(tuple(node["id"] for node in drawn["nodes"]), edges)
        return self._shape

    async def _stream(self, visitor: Visitor, thread_id: str, payload: Any, announce: bool) -> AsyncIterator[TurnEvent]:
        if announce:
            yield TurnEvent("thread", {"thread_id": thread_id})
        try:
            async with self._client(visitor, conflict=Busy(BUSY)) as client:
                async for part in client.runs.stream(
                    thread_id, GRAPH, input=payload, context={"handoff": True}, multitask_strategy="reject",
                    stream_mode=["messages-tuple", "updates"],
                ):  # fmt: skip
                    for event in _events(part.event, part.data):
                        yield event
        except ConsoleFault as fault:
            yield TurnEvent("error", {"message": fault.message, "retry": False})
            return
        except Exception as error:  # noqa: BLE001 - the server or the network failed: the page says so
            yield fault_event(error)
            return
        yield TurnEvent("done", {})


ALREADY = "This turn was already answered (by another reviewer, or in another window). Nothing was sent from this page."
BUSY = "A turn is already running on this thread: wait for its reply."


def _events(kind: str, data: Any) -> Iterator[TurnEvent]:
    """The console's events in one part of the server's stream."""
    if kind == "messages" and isinstance(data, list) and len(data) == 2:
        chunk, metadata = data
        if metadata.get("langgraph_node") == "draft_response" and chunk.get("content"):
            yield token_event(str(chunk["content"]))
    elif kind == "updates" and isinstance(data, dict):
        for node in data:
            yield TurnEvent("step", {"node": node, "ms": None})
    elif kind == "error":
        message = data.get("message", data) if isinstance(data, dict) else data
        raise RuntimeError(str(message))


def _summary(thread: dict[str, Any]) -> ThreadSummary:
    """One line of the thread list from a served thread."""
    title = (thread.get("metadata") or {}).get("title") or thread["thread_id"]
    waiting = thread.get("status") == "interrupted"
    return ThreadSummary(thread["thread_id"], title, _epoch(thread.get("updated_at")), waiting)


def _pauses(tasks: list[dict[str, Any]]) -> Iterator[tuple[str, HandoffRequest]]:
    """Each hand-off pause (its interrupt id and request) among a state's tasks."""
    for task in tasks:
        for pause in task.get("interrupts") or []:
            if is_handoff(pause.get("value")):
                yield str(pause.get("id")), pause["value"]


def _version(state: dict[str, Any]) -> str:
    checkpoint = state.get("checkpoint") or {}
    return str(checkpoint.get("checkpoint_id") or "")


def _epoch(iso: str | None) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() if iso else 0.0


@contextlib.contextmanager
def _server_faults(conflict: ConsoleFault | None) -> Iterator[None]:
    """Say what the server refused, in the page's words (a 409 becomes ``conflict`` where one is given)."""
    from langgraph_sdk.errors import APIStatusError, AuthenticationError, ConflictError, NotFoundError

    try:
        yield
    except ConflictError as error:
        raise conflict or StaleThread(f"The server refused: {_detail(error)}") from None
    except NotFoundError:
        raise UnknownThread("There is no such thread of yours on the server.") from None
    except AuthenticationError as error:
        raise NotYours(f"The server refused your token ({_detail(error)}): sign in again.") from None
    except APIStatusError as error:
        status = error.response.status_code
        fault = NotYours if status == 403 else ConsoleFault
        raise fault(f"The server refused ({status}): {_detail(error)}") from None


def _detail(error: Any) -> str:
    try:
        return str(error.response.json().get("detail", error.response.text))
    except ValueError:
        return str(error.response.text)
