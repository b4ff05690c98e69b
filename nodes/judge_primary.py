"""Node 2, judge_primary (stage one): the LLM picks among the SEM's top-k emotions, or none."""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime

from hef_graph.context import Context
from hef_graph.deps import settings
from hef_graph.judging import judge
from hef_graph.labels import parse_emotion, says_none
from hef_graph.scoring import stage_one_prior
from hef_graph.state import HEFState


def judge_primary(state: HEFState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Ask the LLM to choose among the primary emotions; 'none' or an unusable answer defers to stage two."""
    candidates = state["primary_emotions"]
    verdict = judge(settings(runtime), "judge_primary", state["dialogue"],
                    stage_one_prior(state["sem_distribution"], candidates))  # fmt: skip
    if verdict.scored_choice is not None:
        choice = verdict.scored_choice
    else:
        choice = None if says_none(verdict.text) else parse_emotion(verdict.text, candidates)
    update: dict[str, Any] = {"primary_judgement": verdict.text}
    if choice in candidates:
        update |= {"emotion": choice, "emotion_stage": "primary"}
    return update


def route_after_primary(state: HEFState) -> Literal["perceive_causes", "judge_fallback"]:
    """Go to the cause step when stage one decided, else to stage two."""
    return "perceive_causes" if state.get("emotion_stage") == "primary" else "judge_fallback"
