"""(b) HEF wrapped as a tool for an agent built with `langchain.agents.create_agent`.

The agent's own LLM must call tools. SmolLM2 cannot, so by default a scripted tool-calling model plays
the agent; pass --model with any `init_chat_model` string (e.g. "openai:gpt-4o-mini") to use a real one.

Run: python examples/agent_with_hef_tool.py [--model PROVIDER:MODEL]
"""

from __future__ import annotations

import argparse

from _scripted_model import agent_model
from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel

from hef_graph.agent_tool import hef_reply_tool

MESSAGE = "My best friend moved to another country and I feel so alone."


def build_agent(model: BaseChatModel):
    """An agent that may hand emotional messages to HEF."""
    prompt = "When the user shares feelings, call empathetic_reply with their message and answer with its reply."
    return create_agent(model, tools=[hef_reply_tool()], system_prompt=prompt)


def main() -> None:
    """Run the agent on one message."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="init_chat_model string of a tool-calling model")
    args = parser.parse_args()
    model = agent_model(args.model, "empathetic_reply", {"message": MESSAGE}, "(the agent relays HEF's reply above)")
    out = build_agent(model).invoke({"messages": [("user", MESSAGE)]})
    for message in out["messages"]:
        print(f"{message.type}: {message.content}")


if __name__ == "__main__":
    main()
