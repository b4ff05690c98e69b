"""Node 4, perceive_causes: the cause words for the *final* emotion become the reply's focus."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from hef_graph.context import Context
from hef_graph.deps import sem_of, settings
from hef_graph.sem.tool import cause_words_for
from hef_graph.state import HEFState


def perceive_causes(state: HEFState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Reuse the SEM pass when the final emotion is its top-1; otherwise attribute toward the new label."""
    context = settings(runtime)
    if state["emotion"] == state["primary_emotions"][0]:
        causes = state["sem_cause_words"][: context.num_cause_words]
    else:
        causes = cause_words_for(sem_of(context), state["dialogue"], state["emotion"], context.num_cause_words)
    return {"cause_words": causes}
