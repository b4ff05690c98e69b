"""Node 2, judge_primary (stage one): the LLM picks among the SEM's top-k emotions, or none."""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from hef_graph.context import Context
from hef_graph.deps import llm_of, settings
from hef_graph.dialogue import format_dialogue
from hef_graph.labels import parse_emotion, says_none
from hef_graph.llm import chat
from hef_graph.prompting import render_prompt
from hef_graph.state import HEFState


def judge_primary(state: HEFState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Ask the LLM to choose among the primary emotions; an unusable answer defers to stage two."""
    context = settings(runtime)
    candidates = state["primary_emotions"]
    prompt = render_prompt(
        "judge_primary", dialogue=format_dialogue(state["dialogue"]), candidates=", ".join(candidates)
    )
    answer = chat(
        llm_of(context),
        [SystemMessage(render_prompt("system")), HumanMessage(prompt)],
        context.judge_max_new_tokens,
        context.repetition_penalty,
    )
    update: dict[str, Any] = {"primary_judgement": answer}
    choice = None if says_none(answer) else parse_emotion(answer, candidates)
    if choice is not None:
        update |= {"emotion": choice, "emotion_stage": "primary"}
    return update


def route_after_primary(state: HEFState) -> Literal["perceive_causes", "judge_fallback"]:
    """Go to the cause step when stage one decided, else to stage two."""
    return "perceive_causes" if state.get("emotion_stage") == "primary" else "judge_fallback"
