"""A scripted tool-calling chat model for the agent examples (SmolLM2 cannot call tools).

Pass a real tool-calling model with --model to use one instead.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage


class ScriptedToolCaller(GenericFakeChatModel):
    """Answers with the scripted messages in order; accepts tools like a real tool-calling model."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedToolCaller:
        """Accept any tools (the script already names the calls)."""
        return self


def calls_then_answers(tool: str, args: dict[str, Any], final: str) -> ScriptedToolCaller:
    """A model that calls ``tool`` once with ``args``, then gives ``final`` as its answer."""
    call = AIMessage("", tool_calls=[{"name": tool, "args": args, "id": "call-1", "type": "tool_call"}])
    return ScriptedToolCaller(messages=iter([call, AIMessage(final)]))


def agent_model(spec: str | None, tool: str, args: dict[str, Any], final: str):
    """A real tool-calling model from an ``init_chat_model`` spec, or the scripted stand-in."""
    if spec:
        from langchain.chat_models import init_chat_model

        return init_chat_model(spec)
    return calls_then_answers(tool, args, final)
