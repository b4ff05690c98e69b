"""Node 4, perceive_causes: the cause words for the *final* emotion become the reply's focus."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from hef_graph.context import Context
from hef_graph.deps import cause_tagger_of, sem_of, settings
from hef_graph.sem.tool import cause_words_for, mark_agreement, tagged_causes
from hef_graph.state import HEFState


def perceive_causes(state: HEFState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Tag the final emotion's cause words (default), or take the SEM's attribution, or both with agreement marked."""
    context = settings(runtime)
    if context.num_cause_words == 0:
        return {"cause_words": []}
    if context.cause_source == "attribution":
        return {"cause_words": attributed_causes(state, context)}
    tagger = cause_tagger_of(context)
    causes = tagged_causes(tagger, state["dialogue"], str(state["emotion"]), context.num_cause_words)
    if context.cause_source == "both":
        causes = mark_agreement(causes, attributed_causes(state, context))
    return {"cause_words": causes}


def attributed_causes(state: HEFState, context: Context) -> list[dict[str, Any]]:
    """The SEM attribution's words: its own pass when the final emotion is its top-1, else a pass toward it."""
    if state["emotion"] == state["primary_emotions"][0]:
        return [dict(cause) for cause in state["sem_cause_words"][: context.num_cause_words]]
    return cause_words_for(sem_of(context), state["dialogue"], str(state["emotion"]), context.num_cause_words)
