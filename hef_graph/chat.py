"""`hef chat`: a terminal conversation with streamed replies, persistent threads and trace commands."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from langchain_core.messages import AIMessageChunk
from langchain_core.runnables import RunnableConfig
from rich.console import Console

from hef_graph.context import Context
from hef_graph.display import decision_table
from hef_graph.errors import HandoffError
from hef_graph.graph import build_graph
from hef_graph.handoff import pending_handoff, resume_handoff
from hef_graph.persistence import sqlite_checkpointer, user_data_dir
from hef_graph.trace import GraphShape, TurnTrace, render_html

HELP = "commands: /why (last turn's reasoning), /trace [file] (HTML trace), /new (new thread), /quit"
HANDOFF_HELP = "/handoff (the paused turn), /handoff send | edit TEXT | take_over | hand_back [TEXT]"


class ChatSession:
    """One terminal chat; every turn is checkpointed, so threads persist across runs."""

    def __init__(
        self, db: Path | None, thread: str | None, llm: str | None, console: Console, handoff: bool = False
    ) -> None:
        """Open the thread store and resume ``thread`` (or the last one used); ``handoff`` pauses crisis turns."""
        self.console = console
        self.context = Context(handoff=True) if handoff else None
        self.graph = build_graph(checkpointer=sqlite_checkpointer(db), llm=llm)
        self.shape = GraphShape.of(self.graph)
        self.last_thread_file = (db.parent if db else user_data_dir()) / "last_thread"
        self.thread = thread or self._read_last_thread() or self._new_thread_id()
        self.last_turn: TurnTrace | None = None

    def _read_last_thread(self) -> str | None:
        if self.last_thread_file.is_file():
            return self.last_thread_file.read_text().strip() or None
        return None

    def _new_thread_id(self) -> str:
        return uuid.uuid4().hex[:8]

    @property
    def config(self) -> RunnableConfig:
        """Return the LangGraph config naming this thread."""
        return {"configurable": {"thread_id": self.thread}}

    def loop(self) -> None:
        """Read lines until /quit or end of input."""
        self.last_thread_file.parent.mkdir(parents=True, exist_ok=True)
        self.last_thread_file.write_text(self.thread)
        extra = f", {HANDOFF_HELP}" if self.context else ""
        self.console.print(f"HEF chat on thread [bold]{self.thread}[/]. {HELP}{extra}", highlight=False)
        while True:
            try:
                line = self.console.input("[bold cyan]you>[/] ").strip()
            except EOFError:
                break
            if line in ("/quit", "/exit"):
                break
            if line:
                self.handle(line)

    def handle(self, line: str) -> None:
        """Run a command or a user turn."""
        command, _, argument = line.partition(" ")
        if command == "/why":
            self._why()
        elif command == "/trace":
            self._trace(Path(argument.strip() or "hef-trace.html"))
        elif command == "/new":
            self.thread = self._new_thread_id()
            self.last_thread_file.write_text(self.thread)
            self.last_turn = None
            self.console.print(f"new thread [bold]{self.thread}[/]", highlight=False)
        elif command == "/handoff":
            self._handoff(argument.strip())
        elif command.startswith("/"):
            self.console.print(f"unknown command {command}; {HELP}", highlight=False)
        else:
            self._turn(line)

    def _turn(self, text: str) -> None:
        trace = TurnTrace(self.shape)
        streamed: list[str] = []
        self.console.print("[bold green]hef>[/] ", end="")
        last = time.perf_counter()
        parts = cast(  # with a list of modes LangGraph yields (mode, payload) pairs
            Iterator[tuple[str, Any]],
            self.graph.stream({"messages": [("user", text)]}, self.config, stream_mode=["messages", "updates"],
                              context=self.context),
        )  # fmt: skip
        for mode, payload in parts:
            if mode == "messages":
                chunk, metadata = payload
                if metadata.get("langgraph_node") == "draft_response" and isinstance(chunk, AIMessageChunk):
                    streamed.append(str(chunk.content))
                    self.console.print(str(chunk.content), end="", highlight=False, markup=False)
            else:
                now = time.perf_counter()
                trace.steps += [(node, now - last) for node in payload]
                last = now
        self.console.print()
        trace.state = dict(self.graph.get_state(self.config).values)
        self.last_turn = trace
        request = pending_handoff(self.graph, self.config)
        if request is not None:
            self.console.print(f"[dim](waiting for a person: {request['reason']}; /handoff to review)[/]")
            return
        reply = trace.state.get("reply", "")
        if "".join(streamed).strip() != reply:
            self.console.print(f"[dim](reply kept: {reply})[/]", highlight=False)

    def _handoff(self, argument: str) -> None:
        """The reviewer's side: show the paused turn, or answer it (send, edit TEXT, take_over, hand_back [TEXT])."""
        request = pending_handoff(self.graph, self.config)
        if not argument:
            if request is None:
                self.console.print("this thread is not waiting for a person")
                return
            self.console.print(f"reason: {request['reason']}; emotion: {request['emotion'] or '-'}\n"
                               f"last turn: {request['dialogue'][-1]}\ndraft: {request['draft'] or '(none)'}\n"
                               f"{HANDOFF_HELP}", highlight=False, markup=False, soft_wrap=True)  # fmt: skip
            return
        action, _, text = argument.partition(" ")
        try:
            state = resume_handoff(self.graph, self.config, action, text.strip() or None, context=self.context)
        except HandoffError as error:
            self.console.print(f"[red]{error}[/]", highlight=False)
            return
        sent = state["handoff"]["reply"] if state.get("handoff") else None
        self.console.print(f"[bold green]hef>[/] {sent}" if sent else "(nothing sent)", highlight=False)

    def _why(self) -> None:
        if self.last_turn is None:
            self.console.print("no turn yet on this thread in this session")
            return
        self.console.print(decision_table(self.last_turn.state))

    def _trace(self, path: Path) -> None:
        if self.last_turn is None:
            self.console.print("no turn yet on this thread in this session")
            return
        path.write_text(render_html([self.last_turn], title=f"HEF trace, thread {self.thread}"), encoding="utf-8")
        self.console.print(f"trace written to {path}")
