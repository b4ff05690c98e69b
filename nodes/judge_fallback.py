"""Node 3, judge_fallback (stage two): only when stage one found no fit, choose among the other labels."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from hef_graph.context import Context
from hef_graph.deps import llm_of, settings
from hef_graph.dialogue import format_dialogue
from hef_graph.labels import EMOTIONS, parse_emotion
from hef_graph.llm import chat
from hef_graph.prompting import render_prompt
from hef_graph.state import HEFState


def judge_fallback(state: HEFState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Ask the LLM among the 32 - k remaining labels; if unparseable, the SEM's top-1 stands (stage 'sem')."""
    context = settings(runtime)
    candidates = [label for label in EMOTIONS if label not in state["primary_emotions"]]
    prompt = render_prompt(
        "judge_fallback", dialogue=format_dialogue(state["dialogue"]), candidates=", ".join(candidates)
    )
    answer = chat(
        llm_of(context),
        [SystemMessage(render_prompt("system")), HumanMessage(prompt)],
        context.judge_max_new_tokens,
        context.repetition_penalty,
    )
    choice = parse_emotion(answer, candidates)
    if choice is None:
        return {"fallback_judgement": answer, "emotion": state["primary_emotions"][0], "emotion_stage": "sem"}
    return {"fallback_judgement": answer, "emotion": choice, "emotion_stage": "fallback"}
