"""Node 3, judge_fallback (stage two): only when stage one found no fit, choose among the other labels."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from hef_graph.context import Context
from hef_graph.deps import settings
from hef_graph.judging import judge
from hef_graph.labels import EMOTIONS, parse_emotion
from hef_graph.state import HEFState


def judge_fallback(state: HEFState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Ask the LLM among the 32 - k remaining labels; if unusable, the SEM's top-1 stands (stage 'sem')."""
    context = settings(runtime)
    if not context.stage_two:
        return {
            "fallback_judgement": "(stage two disabled)",
            "emotion": state["primary_emotions"][0],
            "emotion_stage": "sem",
        }
    distribution = state["sem_distribution"]
    candidates = [label for label in EMOTIONS if label not in state["primary_emotions"]]
    verdict = judge(context, "judge_fallback", state["dialogue"], {c: distribution[c] for c in candidates})
    choice = verdict.scored_choice or parse_emotion(verdict.text, candidates)
    if choice is None:
        return {"fallback_judgement": verdict.text, "emotion": state["primary_emotions"][0], "emotion_stage": "sem"}
    return {"fallback_judgement": verdict.text, "emotion": choice, "emotion_stage": "fallback"}
