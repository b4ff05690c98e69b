"""Node 1, detect_emotion: the SEM tool reads the dialogue's 32-way emotion and its cause words."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from hef_graph.context import Context
from hef_graph.deps import sem_of, settings
from hef_graph.dialogue import dialogue_from_messages
from hef_graph.safety import is_crisis
from hef_graph.sem.tool import SEMTool
from hef_graph.state import HEFState


def detect_emotion(state: HEFState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Run the SEM once and reset this turn's fields, so nothing stale survives from a past turn.

    The SEM's top-1 is written as the provisional emotion (stage 'sem'): it stands unless an LLM
    judgement replaces it.
    """
    context = settings(runtime)
    dialogue = dialogue_from_messages(state.get("messages", []))
    tool = SEMTool(sem=sem_of(context))
    result = tool.invoke({"dialogue": dialogue, "top_k": context.top_k, "num_cause_words": context.num_cause_words})
    runtime.stream_writer({"sem_distribution": result["distribution"], "primary_emotions": result["primary_emotions"]})
    return {
        "dialogue": dialogue,
        "sem_distribution": result["distribution"],
        "primary_emotions": result["primary_emotions"],
        "sem_cause_words": result["cause_words"],
        "emotion": result["primary_emotions"][0],
        "emotion_stage": "sem",
        "primary_judgement": "",
        "fallback_judgement": None,
        "cause_words": [],
        "reply": "",
        "crisis": is_crisis(dialogue[-1], result["distribution"]),
    }
