"""The compiled HEF graph, which refuses a malformed turn before LangGraph stores any of it.

LangGraph saves a run's input before any reducer or node reads it: the raw input is part of the run's first
checkpoint, and the start step's writes are saved before the ``messages`` reducer applies them. A turn that
``add_messages_checked`` or ``check_input`` refused therefore stayed in the thread, and every later read of the
thread (``get_state``, the server's ``threads.get_state``) met the same error until a valid turn came. So the
graph runs both checks on the input and the thread's messages first, in ``stream`` and ``astream``, which
``invoke``, ``ainvoke``, the event streams and the LangGraph server all go through: a refused turn raises the same
``InvalidInput`` and the thread is left exactly as it was. The in-graph checks stay, for what comes in another way.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping, Sequence
from contextlib import aclosing
from typing import Any, cast

from langchain_core.messages import AnyMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import ensure_config, merge_configs
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from hef_graph.auth.identity import person_of_run
from hef_graph.context import Context
from hef_graph.dialogue import dialogue_from_messages
from hef_graph.errors import InvalidInput
from hef_graph.state import HEFState, add_messages_checked


def check_turn(payload: object, thread: Sequence[AnyMessage] | None) -> None:
    """Raise the InvalidInput that the reducer or ``check_input`` would raise for this run's input.

    ``thread`` holds the messages the run starts from; None where they are unknown (a run inside another graph),
    and then only the input's own messages are checked. ``None`` (a resume) and a ``Command`` start no new turn:
    only a Command's ``messages`` update is read.
    """
    if isinstance(payload, Command):
        update = payload.update
        if isinstance(update, Mapping) and "messages" in update:
            add_messages_checked([], update["messages"])
        return
    if payload is None:
        return
    if not isinstance(payload, Mapping):
        example = "{'messages': [('user', 'I lost my job')]}"
        raise InvalidInput(f"the input must be a dict such as {example}, got {type(payload).__name__}")
    messages = list(thread or [])
    if "messages" in payload:
        messages = add_messages_checked(messages, payload["messages"])
    if thread is not None:
        dialogue_from_messages(messages)


class HEFGraph(CompiledStateGraph[HEFState, Context, Any, HEFState]):
    """What ``build_graph`` returns: LangGraph's compiled graph, checking each turn before the run stores it.

    Its input is ``InputState``, but typed Any: callers pass plain dicts whose messages are (role, text) pairs,
    which LangGraph turns into messages.
    """

    @classmethod
    def of(cls, graph: CompiledStateGraph[HEFState, Context, Any, HEFState]) -> HEFGraph:
        """The same compiled graph as this class (as LangGraph's own ``copy`` rebuilds one from its fields)."""
        return cls(**{name: value for name, value in vars(graph).items() if name != "__orig_class__"})

    def stream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Any]:
        """Check the turn against the thread, then run it as LangGraph does."""
        self._check_person(config, kwargs.get("context"))
        thread = self._thread_config(config)
        check_turn(
            input, self._unread_thread() if thread is None else self.get_state(thread).values.get("messages", [])
        )
        yield from super().stream(input, config, **kwargs)

    async def astream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> AsyncIterator[Any]:
        """Check the turn against the thread, then run it as LangGraph does (the server's way in)."""
        self._check_person(config, kwargs.get("context"))
        thread = self._thread_config(config)
        if thread is None:
            check_turn(input, self._unread_thread())
        else:
            check_turn(input, (await self.aget_state(thread)).values.get("messages", []))
        run = cast(AsyncGenerator[Any, None], super().astream(input, config, **kwargs))
        async with aclosing(run) as chunks:
            async for chunk in chunks:
                yield chunk

    def _check_person(self, config: RunnableConfig | None, context: object) -> None:
        """Refuse a served run whose Context names another person than the authenticated one, before it is stored."""
        named = context.user_id if isinstance(context, Context) else None
        if isinstance(context, Mapping) and context.get("user_id") is not None:
            named = str(context["user_id"])
        person_of_run(named, ensure_config(merge_configs(self.config, config)))

    def _thread_config(self, config: RunnableConfig | None) -> RunnableConfig | None:
        """The run's merged config when the run starts from a thread of this graph's own checkpointer, else None.

        That is a top-level run (no namespace of a parent graph's) with a thread id.
        """
        merged = ensure_config(merge_configs(self.config, config))
        configurable = merged.get("configurable", {})
        owned = isinstance(self.checkpointer, BaseCheckpointSaver) and not configurable.get("checkpoint_ns")
        return merged if owned and "thread_id" in configurable else None

    def _unread_thread(self) -> list[AnyMessage] | None:
        """The messages a run that reads no thread starts from.

        None (no checkpointer, or False) keeps no state between runs: no messages. Otherwise they are unknown: no
        thread id (LangGraph refuses the run itself), or state kept inside another graph's thread.
        """
        return [] if self.checkpointer is None or self.checkpointer is False else None
