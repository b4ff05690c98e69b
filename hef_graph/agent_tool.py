"""HEF as a tool for agents that call tools (e.g. ``langchain.agents.create_agent``)."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool, StructuredTool

from hef_graph.graph import HEFGraph, build_graph


def hef_reply_tool(graph: HEFGraph | None = None) -> BaseTool:
    """Wrap a HEF graph as the ``empathetic_reply`` tool: message in, reply with its emotion and causes out."""
    hef = graph if graph is not None else build_graph()

    def empathetic_reply(message: str) -> dict[str, Any]:
        """Write an empathetic reply to a person's message, with the emotion and the words that caused it."""
        out = hef.invoke({"messages": [("user", message)]})
        return {
            "reply": out["reply"],
            "emotion": out["emotion"],
            "emotion_stage": out["emotion_stage"],
            "cause_words": [cause["word"] for cause in out["cause_words"]],
        }

    return StructuredTool.from_function(empathetic_reply)
