"""Node 2, judge_primary (stage one): the LLM picks among the SEM's top-k emotions, or none."""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime

from hef_graph.context import Context
from hef_graph.deps import llm_of, settings
from hef_graph.judging import stage_one_prior
from hef_graph.state import HEFState


def judge_primary(state: HEFState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Ask the LLM to choose among the primary emotions; 'none' or an unusable answer defers to stage two."""
    context = settings(runtime)
    prior = stage_one_prior(state["sem_distribution"], state["primary_emotions"])
    request = context.judgement_request("primary", state["dialogue"], prior)
    judgement = llm_of(context).judge(request, context.call_policy())
    update: dict[str, Any] = {"judgements": [judgement]}
    if judgement["choice"] in state["primary_emotions"]:
        update |= {"emotion": judgement["choice"], "emotion_stage": "primary"}
    return update


def route_after_primary(state: HEFState) -> Literal["perceive_causes", "judge_fallback"]:
    """Go to the cause step when stage one decided, else to stage two."""
    return "perceive_causes" if state.get("emotion_stage") == "primary" else "judge_fallback"
