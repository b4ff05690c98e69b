"""Memory node, remember_turn: after the reply, record what HEF perceived in this turn for later threads."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from langgraph.config import get_config
from langgraph.runtime import Runtime

from hef_graph.context import Context
from hef_graph.deps import memory_encoder_of, settings
from hef_graph.memory import cause_phrase, has_index, new_item, record
from hef_graph.state import HEFState


def remember_turn(state: HEFState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Store time, emotion, valence, cause phrase and thread under the person's id (their words only if asked).

    A turn without cause words has nothing to be recalled by, so it is not stored.
    """
    context = settings(runtime)
    cause = cause_phrase(state.get("cause_words", []))
    if runtime.store is None or not cause or not state.get("emotion"):
        return {"remembered": None}
    item = new_item(str(state["emotion"]), cause, get_config()["configurable"].get("thread_id"),
                    datetime.now(timezone.utc), context.memory_ttl_days,
                    state["dialogue"][-1] if context.remember_text else None)  # fmt: skip
    encoder = memory_encoder_of(context) if not has_index(runtime.store) else None
    record(runtime.store, str(context.user_id), item, encoder)
    return {"remembered": item}
