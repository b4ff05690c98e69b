"""Node 2, judge_primary (stage one): the LLM picks among the SEM's top-k emotions, or none.

Under another judgement design (``Context.judgement_design``) this node is the whole judgement: the LLM
ranks its own top three (combined with the SEM afterwards), chooses alone among all labels, or is not asked.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

from langgraph.runtime import Runtime

from hef_graph.context import Context
from hef_graph.deps import llm_of, settings
from hef_graph.judging import JudgementDesign, JudgementRequest, stage_one_prior
from hef_graph.labels import EMOTIONS
from hef_graph.llm.runtime import LLMRuntime
from hef_graph.state import HEFState


def judge_primary(state: HEFState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Ask the LLM to choose among the primary emotions; 'none' or an unusable answer defers to stage two."""
    context = settings(runtime)
    llm = llm_of(context)
    design = context.judgement_design_for(llm)
    if design != "staged":
        return judge_in_one_step(state, context, llm, design)
    prior = stage_one_prior(state["sem_distribution"], state["primary_emotions"])
    request = context.judgement_request("primary", state["dialogue"], prior)
    judgement = llm.judge(request, context.call_policy())
    update: dict[str, Any] = {"judgements": [judgement]}
    if judgement["choice"] in state["primary_emotions"]:
        update |= {"emotion": judgement["choice"], "emotion_stage": "primary"}
    return update


def judge_in_one_step(state: HEFState, context: Context, llm: LLMRuntime, design: JudgementDesign) -> dict[str, Any]:
    """The designs that decide in one judgement, or none: an unusable answer leaves the SEM's top-1."""
    if design == "sem":
        return {"judgements": []}
    request: JudgementRequest
    if design == "ranked":
        request = context.ranked_request(state["dialogue"], state["sem_distribution"])
    else:  # the LLM alone: every label, no SEM prior
        uniform = dict.fromkeys(EMOTIONS, 1 / len(EMOTIONS))
        request = replace(context.judgement_request("alone", state["dialogue"], uniform), llm_weight=1.0)
    judgement = llm.judge(request, context.call_policy())
    update: dict[str, Any] = {"judgements": [judgement]}
    if judgement["choice"] in EMOTIONS:
        update |= {"emotion": judgement["choice"], "emotion_stage": design}
    return update


def route_after_primary(state: HEFState) -> Literal["perceive_causes", "judge_fallback"]:
    """Go to stage two only when stage one ran and found no fit; every other design has decided."""
    judgements = state.get("judgements") or []
    stage_one_undecided = bool(judgements) and judgements[-1]["stage"] == "primary"
    return "judge_fallback" if stage_one_undecided and state.get("emotion_stage") != "primary" else "perceive_causes"
