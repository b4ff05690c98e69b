"""Node 5, draft_response: the LLM writes the reply, guided by the notes or opener the SEM's evidence supports."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime

from hef_graph.context import Context
from hef_graph.deps import llm_of, settings
from hef_graph.guidance import compose_guidance, reply_messages
from hef_graph.memory import memory_note
from hef_graph.replies import clean_reply
from hef_graph.state import HEFState


def draft_response(state: HEFState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Gate the notes and the opener on their evidence, write the reply and append it to messages."""
    context = settings(runtime)
    llm = llm_of(context)
    guidance = compose_guidance(state["sem_distribution"], str(state["emotion"]), state["dialogue"],
                                state.get("cause_words", []), context.guidance_gates(llm))  # fmt: skip
    recalled = memory_note(state.get("recalled_memories", []))
    notes = [*guidance["notes"], *([recalled] if recalled else [])]
    messages = reply_messages(state["dialogue"], notes, context.max_prompt_chars)
    raw = llm.reply(messages, context.reply_caps(guidance["opener"]), context.call_policy())
    reply = clean_reply(raw) or "I hear you, and I'm here and listening."
    return {"guidance": guidance, "reply": reply, "messages": [AIMessage(reply)]}
