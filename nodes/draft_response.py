"""Node 5, draft_response: the LLM writes the reply, grounded in the emotion and its cause words."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.runtime import Runtime

from hef_graph.context import Context
from hef_graph.deps import llm_of, settings
from hef_graph.dialogue import format_dialogue
from hef_graph.memory import memory_note
from hef_graph.prompting import dialogue_prompt
from hef_graph.replies import clean_reply
from hef_graph.state import HEFState


def draft_response(state: HEFState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Write the reply and append it to messages."""
    context = settings(runtime)
    causes = [cause["word"] for cause in state.get("cause_words", [])]
    messages = dialogue_prompt(
        "draft_response",
        format_dialogue(state["dialogue"], context.max_prompt_chars),
        emotion=str(state["emotion"]),
        cause_line=f", mainly about: {', '.join(causes)}" if causes else "",
    )
    if note := memory_note(state.get("recalled_memories", [])):  # issue 29 (memory): on merging issue 28's
        messages[-1] = HumanMessage(f"{messages[-1].content}\n{note}")  # notes list, this is notes.append(note)
    raw = llm_of(context).reply(messages, context.reply_caps(), context.call_policy())
    reply = clean_reply(raw) or f"It sounds like you feel {state['emotion']}. I'm here and listening."
    return {"reply": reply, "messages": [AIMessage(reply)]}
