"""Assemble the HEF graph: detect_emotion → judge_primary → (judge_fallback) → perceive_causes → draft_response.

A turn that expresses suicidal intent or self-harm goes from detect_emotion straight to safe_reply.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from hef_graph.context import Context
from hef_graph.nodes.detect_emotion import detect_emotion
from hef_graph.nodes.draft_response import draft_response
from hef_graph.nodes.judge_fallback import judge_fallback
from hef_graph.nodes.judge_primary import judge_primary, route_after_primary
from hef_graph.nodes.perceive_causes import perceive_causes
from hef_graph.nodes.safe_reply import route_after_detection, safe_reply
from hef_graph.sem.protocol import EmotionModel
from hef_graph.state import HEFState, InputState

Node = Callable[[HEFState, Runtime[Context]], dict[str, Any]]


def _with_models(node: Node, llm: BaseChatModel | str | None, sem: EmotionModel | str | None) -> Node:
    """Give the node a full Context whose unset model fields are the graph's own models."""

    def run(state: HEFState, runtime: Runtime[Context]) -> dict[str, Any]:
        context = (runtime.context if runtime.context is not None else Context()).with_models(llm, sem)
        return node(state, runtime.override(context=context))

    run.__name__ = node.__name__
    run.__doc__ = node.__doc__
    return run


def build_graph(
    checkpointer: BaseCheckpointSaver | None = None,
    llm: BaseChatModel | str | None = None,
    sem: EmotionModel | str | None = None,
    *,
    name: str = "hef",
    reply: bool = True,
) -> CompiledStateGraph:
    """Compile the HEF graph.

    ``llm`` and ``sem`` default to the embedded SmolLM2 and the shipped SEM, loaded lazily on the
    first turn and kept resident; a ``Context`` passed at invoke time can override them per run.
    ``reply=False`` stops after perceive_causes (emotion and causes only, as evaluations need).
    """
    builder = StateGraph(HEFState, input_schema=InputState, context_schema=Context)
    nodes = [detect_emotion, judge_primary, judge_fallback, perceive_causes, safe_reply]
    nodes += [draft_response] if reply else []
    for node in nodes:
        builder.add_node(node.__name__, _with_models(node, llm, sem))
    builder.add_edge(START, "detect_emotion")
    builder.add_conditional_edges("detect_emotion", route_after_detection, ["safe_reply", "judge_primary"])
    builder.add_edge("safe_reply", END)
    builder.add_conditional_edges("judge_primary", route_after_primary, ["perceive_causes", "judge_fallback"])
    builder.add_edge("judge_fallback", "perceive_causes")
    if reply:
        builder.add_edge("perceive_causes", "draft_response")
        builder.add_edge("draft_response", END)
    else:
        builder.add_edge("perceive_causes", END)
    return builder.compile(checkpointer=checkpointer, name=name)
