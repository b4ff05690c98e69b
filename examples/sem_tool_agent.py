"""(c) The SEM tool on its own, handed to another agent (no HEF graph).

Run: python examples/sem_tool_agent.py [--model PROVIDER:MODEL]
"""

from __future__ import annotations

import argparse

from _scripted_model import agent_model
from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel

from hef_graph import SEMTool, load_sem

DIALOGUE = ["I waited two hours and the doctor never called me in.", "That sounds exhausting.", "It made me furious."]


def build_agent(model: BaseChatModel):
    """An agent with one tool: fine-grained emotion and cause words from the resident SEM."""
    return create_agent(model, tools=[SEMTool(sem=load_sem())],
                        system_prompt="Use detect_emotion to read how the user feels before answering.")  # fmt: skip


def main() -> None:
    """Run the agent on one dialogue and print the tool's output as the agent saw it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="init_chat_model string of a tool-calling model")
    args = parser.parse_args()
    model = agent_model(args.model, "detect_emotion", {"dialogue": DIALOGUE, "top_k": 3}, "(answer using the emotion)")
    out = build_agent(model).invoke({"messages": [("user", DIALOGUE[-1])]})
    for message in out["messages"]:
        print(f"{message.type}: {str(message.content)[:400]}")


if __name__ == "__main__":
    main()
