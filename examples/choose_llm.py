"""(d) Choosing the LLM: the embedded default, a local HF folder, a TGI endpoint, or any LangChain chat model.

Run: python examples/choose_llm.py [--llm smollm2 | /path/to/hf-model | http://127.0.0.1:8080]
"""

from __future__ import annotations

import argparse

from hef_graph import Context, build_graph, load_llm


def main() -> None:
    """Answer one message with the chosen LLM (load_llm accepts a spec string or a chat model object)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llm", default="smollm2", help="smollm2, a local HF model folder, or a TGI URL")
    args = parser.parse_args()
    llm = load_llm(args.llm)  # or any BaseChatModel, e.g. ChatOpenAI(...), passed as build_graph(llm=...)
    graph = build_graph(llm=llm)
    out = graph.invoke({"messages": [("user", "I got into the university I dreamed of!")]}, context=Context(top_k=5))
    print(f"{out['emotion']} ({out['emotion_stage']}): {out['reply']}")


if __name__ == "__main__":
    main()
