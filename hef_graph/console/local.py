"""The console's backend in process: the graph, its SQLite threads and memories, in one data folder.

Each turn runs in a worker thread and streams its events to the page through a queue. One thing at a time per
thread: a second send, or a second reviewer's answer, while a turn runs is refused, and an answer that names a
pause the thread no longer waits on is told it was already answered. So nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk
from langchain_core.runnables import RunnableConfig

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
from hef_graph.console.threads import ThreadIndex
from hef_graph.console.turns import fault_event, is_handoff, open_messages, reading, title_of, token_event
from hef_graph.context import Context
from hef_graph.errors import HandoffError
from hef_graph.graph import build_graph
from hef_graph.handoff import pending_handoff, resume_handoff
from hef_graph.llm import LLMRuntime
from hef_graph.memory import PhraseEncoder, all_items, forget_user, sqlite_store, user_namespace
from hef_graph.persistence import sqlite_checkpointer
from hef_graph.sem.protocol import CauseFinder, EmotionModel
from hef_graph.trace import GraphShape, turns_from_history

log = logging.getLogger(__name__)
Emit = Callable[[TurnEvent | None], None]
WARM_UP = "I finally passed my driving test today!"


@dataclass(frozen=True)
class ConsoleModels:
    """The in-process graph's models: specs or objects as ``build_graph`` takes them (None: the defaults)."""

    llm: LLMRuntime | BaseChatModel | str | None = None
    sem: EmotionModel | None = None
    cause_tagger: CauseFinder | None = None
    memory_encoder: PhraseEncoder | None = None

    def graph_models(self) -> dict[str, Any]:
        """``build_graph``'s model arguments."""
        return {"llm": self.llm, "sem": self.sem, "cause_tagger": self.cause_tagger,
                "memory_encoder": self.memory_encoder}  # fmt: skip


class LocalBackend:
    """Threads, turns, hand-offs and memories of the graph running in this process."""

    def __init__(self, settings: ConsoleSettings, models: ConsoleModels | None = None) -> None:
        """Open the folder's stores and compile the graph (models load on first use, or in ``warm_up``)."""
        folder, self.models = settings.folder, models or ConsoleModels(llm=settings.llm)
        self.store = sqlite_store(folder / "memory.sqlite", self.models.memory_encoder)
        self.graph = build_graph(checkpointer=sqlite_checkpointer(folder / "threads.sqlite"), store=self.store,
                                 **self.models.graph_models())  # fmt: skip
        self.index = ThreadIndex(folder / "console.sqlite")
        self._busy: set[str] = set()
        self._busy_lock = threading.Lock()

    def warm_up(self) -> None:
        """Load the SEM, the tagger and the LLM by answering one message on a graph that keeps nothing."""
        started = time.perf_counter()
        build_graph(**self.models.graph_models()).invoke({"messages": [("user", WARM_UP)]})
        log.info("models loaded in %.1f s", time.perf_counter() - started)

    # ----- threads and turns ------------------------------------------------------------------

    async def threads(self, visitor: Visitor) -> list[ThreadSummary]:
        """The visitor's threads, newest first."""
        return self.index.of(visitor.identity.user_id)

    async def thread(self, visitor: Visitor, thread_id: str) -> ThreadView:
        """One of the visitor's threads, every finished turn with its trace."""
        self._require_owner(visitor, thread_id)
        return await asyncio.to_thread(self._view, thread_id)

    async def start_turn(
        self, visitor: Visitor, thread_id: str | None, text: str, version: str
    ) -> AsyncIterator[TurnEvent]:
        """Check and claim the thread, then return the turn's event stream (a new thread if ``thread_id`` is None)."""
        person = visitor.identity.user_id
        if thread_id is not None:
            self._require_owner(visitor, thread_id)
        claimed = self._claim(thread_id or uuid.uuid4().hex[:12])
        try:
            if thread_id is None:
                self.index.add(claimed, person, title_of(text))
            elif await asyncio.to_thread(self._version, claimed) != version:
                raise StaleThread("This thread changed in another window. Reload it to see the latest turn; "
                                  "your message is still in the box.")  # fmt: skip
        except BaseException:
            self._release(claimed)
            raise
        return self._stream(claimed, {"messages": [("user", text)]}, person, announce=thread_id is None)

    async def retry(self, visitor: Visitor, thread_id: str, version: str) -> AsyncIterator[TurnEvent]:
        """Finish a turn that stopped on a fault, from where it stopped (the person's message is already stored)."""
        self._require_owner(visitor, thread_id)
        self._claim(thread_id)
        try:
            view = await asyncio.to_thread(self._view, thread_id)
            if not view.failed or view.version != version:
                raise StaleThread("There is nothing to retry on this thread any more: reload it.")
        except BaseException:
            self._release(thread_id)
            raise
        return self._stream(thread_id, None, visitor.identity.user_id, announce=False)

    # ----- the inbox --------------------------------------------------------------------------

    async def inbox(self, visitor: Visitor) -> list[Pause]:
        """Every turn paused for a hand-off, the oldest first."""
        self._require_reviewer(visitor)
        return await asyncio.to_thread(self._pauses)

    async def resume(self, visitor: Visitor, thread_id: str, pause_id: str, action: str, reply: str | None) -> None:
        """Carry out a reviewer's answer, once: a pause already answered (or being answered) is refused."""
        self._require_reviewer(visitor)
        self._claim(thread_id, AlreadyAnswered("Another reviewer is answering this turn right now."))
        try:
            await asyncio.to_thread(self._resume, visitor, thread_id, pause_id, action, reply)
        finally:
            self.index.touch(thread_id, pending_handoff(self.graph, _config(thread_id)) is not None)
            self._release(thread_id)

    # ----- memories ---------------------------------------------------------------------------

    async def memories(self, visitor: Visitor) -> list[Memory]:
        """The visitor's own memories, newest first."""
        items = await asyncio.to_thread(all_items, self.store, user_namespace(visitor.identity.user_id))
        memories = [Memory(item.key, item.value["time"], item.value["emotion"], item.value["cause"],
                           item.value.get("thread_id")) for item in items]  # fmt: skip
        return sorted(memories, key=lambda memory: memory.time, reverse=True)

    async def forget(self, visitor: Visitor, key: str | None) -> int:
        """Delete one of the visitor's memories, or all of them (``key`` None); return how many went."""
        if key is None:
            return await asyncio.to_thread(forget_user, self.store, visitor.identity.user_id)
        await asyncio.to_thread(self.store.delete, user_namespace(visitor.identity.user_id), key)
        return 1

    # ----- inside -----------------------------------------------------------------------------

    def _require_owner(self, visitor: Visitor, thread_id: str) -> None:
        entry = self.index.entry(thread_id)
        if entry is None or entry[0] != visitor.identity.user_id:
            raise UnknownThread(f"There is no thread {thread_id!r} of yours.")

    def _require_reviewer(self, visitor: Visitor) -> None:
        if not visitor.can_review:
            raise NotYours("Only a reviewer sees the inbox: sign in with a reviewer token.")

    def _claim(self, thread_id: str, refusal: ConsoleFault | None = None) -> str:
        """Hold the thread for one run (a turn's worker frees it when the run ends), or refuse: it is taken."""
        with self._busy_lock:
            if thread_id in self._busy:
                raise refusal or Busy("A turn is already running on this thread: wait for its reply.")
            self._busy.add(thread_id)
        return thread_id

    def _release(self, thread_id: str) -> None:
        with self._busy_lock:
            self._busy.discard(thread_id)

    def _version(self, thread_id: str) -> str:
        return str(self.graph.get_state(_config(thread_id)).config.get("configurable", {}).get("checkpoint_id", ""))

    def _view(self, thread_id: str) -> ThreadView:
        config = _config(thread_id)
        state = self.graph.get_state(config)
        turns = turns_from_history(self.graph, config)
        answered = turns[-1].state.get("messages", []) if turns else []
        request = pending_handoff(self.graph, config)
        _owner, title = self.index.entry(thread_id) or ("", thread_id)
        return ThreadView(
            thread_id, title, self._version(thread_id), GraphShape.of(self.graph), turns,
            open_messages(state.values.get("messages", []), answered),
            request["reason"] if request else None, bool(state.next) and request is None,
        )  # fmt: skip

    def _stream(self, thread_id: str, payload: Any, person: str, announce: bool) -> AsyncIterator[TurnEvent]:
        """Start the run in a worker thread (it owns the claim from here) and relay its events."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[TurnEvent | None] = asyncio.Queue()

        def emit(event: TurnEvent | None) -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(queue.put_nowait, event)

        context = Context(handoff=True, user_id=person)
        threading.Thread(target=self._run, args=(thread_id, payload, context, emit), daemon=True).start()
        return _relay(queue, TurnEvent("thread", {"thread_id": thread_id}) if announce else None)

    def _run(self, thread_id: str, payload: Any, context: Context, emit: Emit) -> None:
        """Run the turn to its end even if the page goes away: the thread is complete either way."""
        config, last = _config(thread_id), time.perf_counter()
        try:
            parts = self.graph.stream(payload, config, context=context, stream_mode=["messages", "updates"])
            for mode, data in cast(Iterator[tuple[str, Any]], parts):
                if mode == "messages":
                    chunk, metadata = data
                    if metadata.get("langgraph_node") == "draft_response" and isinstance(chunk, AIMessageChunk):
                        emit(token_event(str(chunk.content)))
                    continue
                now = time.perf_counter()
                for node in data:
                    emit(TurnEvent("step", {"node": node, "ms": round((now - last) * 1000)}))
                last = now
            emit(TurnEvent("done", {}))
        except Exception as error:  # noqa: BLE001 - every fault reaches the page; the thread keeps the message
            log.exception("turn on thread %s stopped", thread_id)
            emit(fault_event(error))
        finally:
            self.index.touch(thread_id, pending_handoff(self.graph, config) is not None)
            self._release(thread_id)
            emit(None)

    def _pauses(self) -> list[Pause]:
        pauses = []
        for thread_id, since in self.index.paused():
            state = self.graph.get_state(_config(thread_id))
            for interrupt in state.interrupts:
                if is_handoff(interrupt.value):
                    value = interrupt.value
                    pauses.append(Pause(thread_id, interrupt.id, value["reason"], value["dialogue"], value["emotion"],
                                        reading(state.values.get("sem_distribution")), value["draft"], since,
                                        value.get("error")))  # fmt: skip
        return pauses

    def _resume(self, visitor: Visitor, thread_id: str, pause_id: str, action: str, reply: str | None) -> None:
        config = _config(thread_id)
        pauses = [i.id for i in self.graph.get_state(config).interrupts if is_handoff(i.value)]
        if pause_id not in pauses:
            raise AlreadyAnswered("This turn was already answered (by another reviewer, or in another window). "
                                  "Nothing was sent from this page.")  # fmt: skip
        owner, _title = self.index.entry(thread_id) or (None, "")
        context = Context(handoff=True, user_id=owner, reviewer=visitor.identity.user_id)
        try:
            resume_handoff(self.graph, config, action, reply, context=context)
        except HandoffError as error:
            raise ConsoleFault(str(error)) from None


async def _relay(queue: asyncio.Queue[TurnEvent | None], first: TurnEvent | None) -> AsyncIterator[TurnEvent]:
    if first is not None:
        yield first
    while (event := await queue.get()) is not None:
        yield event


def _config(thread_id: str) -> RunnableConfig:
    return {"configurable": {"thread_id": thread_id}}
