"""The LLM boundary: ``LLMRuntime``, its backends, and ``load_llm`` to choose one.

Backends: llama.cpp in process (the default), in-process transformers, OpenAI-compatible HTTP, and any
LangChain chat model.
"""

from hef_graph.llm.loading import as_runtime, load_llm
from hef_graph.llm.runtime import CallPolicy, Capabilities, Generation, LLMRuntime

__all__ = ["CallPolicy", "Capabilities", "Generation", "LLMRuntime", "as_runtime", "load_llm"]
