"""Node 1, detect_emotion: the SEM tool reads the dialogue's 32-way emotion and its cause words."""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime

from hef_graph.context import Context
from hef_graph.deps import sem_of, settings
from hef_graph.safety import is_crisis
from hef_graph.sem.tool import SEMTool
from hef_graph.state import HEFState


def detect_emotion(state: HEFState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Run the SEM once; its top-1 is the provisional emotion (stage 'sem') unless a judgement replaces it.

    The SEM attributes cause words only when the context asks for attribution (the tagger needs none).

    Softer crisis phrasings ("I can't go on") count only when the SEM reads strong despair, so they are
    checked here rather than at the input check.
    """
    context = settings(runtime)
    tool = SEMTool(sem=sem_of(context))
    cause_words = context.num_cause_words if context.attributes_causes() else 0
    result = tool.invoke({"dialogue": state["dialogue"], "top_k": context.top_k, "num_cause_words": cause_words})
    runtime.stream_writer({"sem_distribution": result["distribution"], "primary_emotions": result["primary_emotions"]})
    return {
        "sem_distribution": result["distribution"],
        "primary_emotions": result["primary_emotions"],
        "sem_cause_words": result["cause_words"],
        "emotion": result["primary_emotions"][0],
        "emotion_stage": "sem",
        "crisis": is_crisis(state["dialogue"][-1], result["distribution"]),
    }


def route_after_detection(state: HEFState) -> Literal["safe_reply", "hand_off", "judge_primary"]:
    """Softer crisis phrasings that the SEM confirms skip the LLM entirely, as do turns that wait for a person."""
    if state.get("crisis"):
        return "safe_reply"
    return "hand_off" if state.get("handoff_reason") else "judge_primary"
