"""Memory node, recall_memories: the person's earlier conversations that relate to this turn's cause."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from langgraph.config import get_config
from langgraph.runtime import Runtime

from hef_graph.context import Context
from hef_graph.deps import memory_encoder_of, settings
from hef_graph.memory import cause_phrase, has_index, recall
from hef_graph.state import HEFState


def recall_memories(state: HEFState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Look up the person's related earlier items (``hef_graph.memory.recall``) for the reply to draw on.

    The query is this turn's cause phrase (the final emotion's cause words), else the person's last turn;
    this thread's own items are left out, since its turns are already in the dialogue.
    """
    context = settings(runtime)
    if runtime.store is None or context.memory_limit == 0:
        return {"recalled_memories": []}
    query = cause_phrase(state.get("cause_words", [])) or state["dialogue"][-1]
    encoder = memory_encoder_of(context) if not has_index(runtime.store) else None
    thread_id = get_config()["configurable"].get("thread_id")
    recalled = recall(runtime.store, str(context.user_id), query, encoder, context.recall_settings(),
                      now=datetime.now(timezone.utc), thread_id=thread_id)  # fmt: skip
    return {"recalled_memories": recalled}
