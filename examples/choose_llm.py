"""(d) Choosing the LLM: the default or the tiny one, an OpenAI-compatible server, a local HF folder, a TGI endpoint.

Run: python examples/choose_llm.py [--llm llama.cpp:qwen1.5b | smollm2 | /path/to/hf-model | http://127.0.0.1:8080 |
                                    openai:MODEL --base-url http://127.0.0.1:8000/v1]
"""

from __future__ import annotations

import argparse

from hef_graph import Context, build_graph, load_llm


def main() -> None:
    """Answer one message with the chosen LLM (load_llm accepts a spec string or a chat model object)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llm", default=None, help="default: $HEF_LLM, else llama.cpp:qwen1.5b; smollm2, "
                        "openai:MODEL, a local HF model folder, or a TGI URL")  # fmt: skip
    parser.add_argument("--base-url", default=None, help="the OpenAI-compatible server of openai:MODEL")
    args = parser.parse_args()
    llm = load_llm(args.llm, base_url=args.base_url)  # or any BaseChatModel, e.g. ChatOpenAI(...)
    print(f"{llm!r} can score labels: {llm.capabilities.score_labels}")
    graph = build_graph(llm=llm)
    out = graph.invoke({"messages": [("user", "I got into the university I dreamed of!")]}, context=Context(top_k=5))
    methods = ", ".join(j["method"] for j in out["judgements"])
    print(f"{out['emotion']} ({out['emotion_stage']}, judged by: {methods}): {out['reply']}")


if __name__ == "__main__":
    main()
