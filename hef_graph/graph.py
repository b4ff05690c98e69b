"""Assemble the HEF graph: input check, SEM, stage one, (stage two), causes, reply.

check_input → detect_emotion → judge_primary → (judge_fallback) → perceive_causes → draft_response.

An empty turn ends at check_input and a crisis turn goes to safe_reply before any model runs; a softer
crisis phrasing that the SEM confirms goes from detect_emotion to safe_reply. With a hand-off
(``Context.handoff``), crisis turns and requests for a human pause in hand_off until a person answers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.config import get_config
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore

from hef_graph.auth.identity import person_of_run
from hef_graph.compiled import HEFGraph
from hef_graph.context import Context
from hef_graph.llm import LLMRuntime, as_runtime
from hef_graph.memory import PhraseEncoder, user_namespace
from hef_graph.nodes.check_input import check_input, route_after_input
from hef_graph.nodes.detect_emotion import detect_emotion, route_after_detection
from hef_graph.nodes.draft_response import draft_response
from hef_graph.nodes.hand_off import hand_off
from hef_graph.nodes.judge_fallback import judge_fallback
from hef_graph.nodes.judge_primary import judge_primary, route_after_primary
from hef_graph.nodes.perceive_causes import perceive_causes
from hef_graph.nodes.recall_memories import recall_memories
from hef_graph.nodes.remember_turn import remember_turn
from hef_graph.nodes.safe_reply import route_after_safe_reply, safe_reply
from hef_graph.sem.protocol import CauseFinder, EmotionModel
from hef_graph.state import HEFState, InputState

Node = Callable[[HEFState, Runtime[Context]], dict[str, Any]]
log = logging.getLogger("hef_graph.nodes")


@dataclass(frozen=True)
class GraphModels:
    """The graph's own models and whether its memory is on: what every node's Context falls back to."""

    llm: LLMRuntime | str | None
    sem: EmotionModel | str | None
    cause_tagger: CauseFinder | None
    memory_encoder: PhraseEncoder | None
    memory: bool


def _as_node(node: Node, models: GraphModels) -> Node:
    """Give the node a full Context (unset models are the graph's own) and log its timing once per run.

    Served with authentication, the run's person is the authenticated caller (``hef_graph.auth.identity``): a
    Context naming someone else fails here. With memory on, a run that names no user fails here too, in the
    first node, before any model runs.
    """

    def run(state: HEFState, runtime: Runtime[Context]) -> dict[str, Any]:
        context = (runtime.context if runtime.context is not None else Context()).with_models(
            models.llm, models.sem, models.cause_tagger, models.memory_encoder
        )
        person = person_of_run(context.user_id, get_config())
        if person != context.user_id:
            context = replace(context, user_id=person)
        if models.memory:
            user_namespace(context.user_id)  # raises MissingUserId
        started = time.perf_counter()
        try:
            return node(state, runtime.override(context=context))
        finally:
            log.info("%s %.3f s", node.__name__, time.perf_counter() - started)

    run.__name__ = node.__name__
    run.__doc__ = node.__doc__
    return run


def build_graph(
    checkpointer: BaseCheckpointSaver | None = None,
    llm: LLMRuntime | BaseChatModel | str | None = None,
    sem: EmotionModel | str | Path | None = None,
    *,
    cause_tagger: CauseFinder | None = None,
    name: str = "hef",
    reply: bool = True,
    store: BaseStore | None = None,
    memory: bool | None = None,
    memory_encoder: PhraseEncoder | None = None,
) -> HEFGraph:
    """Compile the HEF graph.

    ``llm`` is an LLM runtime, a LangChain chat model (wrapped once by ``as_runtime``) or a ``load_llm``
    spec; ``sem`` an EmotionModel or a saved SEM folder; ``cause_tagger`` any CauseFinder (default: the shipped
    tagger). Specs (default: ``load_llm()``'s LLM, which is
    Qwen2.5-Coder-1.5B through llama.cpp unless ``$HEF_LLM`` names another, and the shipped SEM) load on first
    use into the model cache; a ``Context`` passed at invoke time can override both per run. ``reply=False``
    stops after perceive_causes (emotion and causes only, as evaluations need).

    Emotional memory across threads (``hef_graph.memory``) is on with a ``store`` (e.g.
    ``hef_graph.memory.sqlite_store(path)``), or with ``memory=True`` where the server supplies the store: the
    reply is offered the person's related earlier conversations (recall_memories), and each answered turn is
    recorded (remember_turn). Every run then needs ``Context(user_id=...)``. ``memory_encoder`` embeds cause
    phrases for a store without an index of its own (default: the shipped MiniLM).
    """
    llm = as_runtime(llm) if isinstance(llm, BaseChatModel) else llm
    sem = str(sem) if isinstance(sem, Path) else sem
    builder = StateGraph(HEFState, input_schema=InputState, context_schema=Context)
    memory = (store is not None if memory is None else memory) and reply
    models = GraphModels(llm, sem, cause_tagger, memory_encoder, memory)
    nodes = [check_input, detect_emotion, judge_primary, judge_fallback, perceive_causes, safe_reply, hand_off]
    nodes += ([draft_response] if reply else []) + ([recall_memories, remember_turn] if memory else [])
    for node in nodes:
        builder.add_node(node.__name__, _as_node(node, models))  # type: ignore[call-overload]
    builder.add_edge(START, "check_input")
    builder.add_conditional_edges("check_input", route_after_input, ["safe_reply", "detect_emotion", "hand_off", END])
    builder.add_conditional_edges("detect_emotion", route_after_detection, ["safe_reply", "hand_off", "judge_primary"])
    builder.add_conditional_edges("safe_reply", route_after_safe_reply, ["hand_off", END])
    builder.add_edge("hand_off", END)
    builder.add_conditional_edges("judge_primary", route_after_primary, ["perceive_causes", "judge_fallback"])
    builder.add_edge("judge_fallback", "perceive_causes")
    if memory:
        builder.add_edge("perceive_causes", "recall_memories")
        builder.add_edge("recall_memories", "draft_response")
        builder.add_edge("draft_response", "remember_turn")
        builder.add_edge("remember_turn", END)
    elif reply:
        builder.add_edge("perceive_causes", "draft_response")
        builder.add_edge("draft_response", END)
    else:
        builder.add_edge("perceive_causes", END)
    return HEFGraph.of(builder.compile(checkpointer=checkpointer, store=store, name=name))
