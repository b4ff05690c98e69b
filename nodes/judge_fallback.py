"""Node 3, judge_fallback (stage two): only when stage one found no fit, choose among the other labels."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from hef_graph.context import Context
from hef_graph.deps import llm_of, settings
from hef_graph.labels import EMOTIONS
from hef_graph.state import HEFState


def judge_fallback(state: HEFState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Ask the LLM among the 32 - k remaining labels; if unusable, the SEM's top-1 stands (stage 'sem')."""
    context = settings(runtime)
    sem_top1 = {"emotion": state["primary_emotions"][0], "emotion_stage": "sem"}
    if not context.stage_two:
        return sem_top1
    distribution = state["sem_distribution"]
    prior = {label: distribution[label] for label in EMOTIONS if label not in state["primary_emotions"]}
    judgement = llm_of(context).judge(context.judgement_request("fallback", state["dialogue"], prior),
                                      context.call_policy())  # fmt: skip
    judgements = [*state.get("judgements", []), judgement]
    if judgement["choice"] not in prior:
        return {"judgements": judgements, **sem_top1}
    return {"judgements": judgements, "emotion": judgement["choice"], "emotion_stage": "fallback"}
