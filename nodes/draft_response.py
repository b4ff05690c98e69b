"""Node 5, draft_response: the LLM writes the reply, grounded in the emotion and its cause words."""

from __future__ import annotations

import re
from typing import Any

from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime

from hef_graph.context import Context
from hef_graph.deps import llm_of, settings
from hef_graph.dialogue import format_dialogue
from hef_graph.prompting import dialogue_prompt
from hef_graph.state import HEFState

_ROLE_PREFIX = re.compile(r"^\s*(listener|speaker|assistant|reply|response)\s*:\s*", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_NEXT_TURN = re.compile(r"\n\s*(speaker|user|listener)\s*:", re.IGNORECASE)
_COMMENTARY = re.compile(r"\n\s*(the speaker|the listener|note|notes)\b", re.IGNORECASE)
_WHOLE = re.compile(r"[.!?][\"')\]]*$")


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
    raw = llm_of(context).reply(messages, context.reply_caps(), context.call_policy())
    reply = clean_reply(raw) or f"It sounds like you feel {state['emotion']}. I'm here and listening."
    return {"reply": reply, "messages": [AIMessage(reply)]}


def clean_reply(text: str, max_sentences: int = 2) -> str:
    """Strip role prefixes, quotes, commentary and any turn written for the other speaker; keep whole sentences.

    Small LLMs drift after a sentence or two, so the reply keeps at most ``max_sentences``; a sentence cut by
    the length cap is dropped unless it is all there is.
    """
    text = _NEXT_TURN.split(text, maxsplit=1)[0]
    text = _COMMENTARY.split(text, maxsplit=1)[0]
    text = _ROLE_PREFIX.sub("", text.strip().strip('"')).strip().strip('"').strip()
    sentences = [s.strip() for s in _SENTENCE_END.split(" ".join(text.split())) if s.strip()]
    whole = [s for s in sentences if _WHOLE.search(s)]
    kept = whole[:max_sentences] if whole else sentences[:1]
    return " ".join(kept)
