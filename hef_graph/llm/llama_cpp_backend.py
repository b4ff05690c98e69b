"""The in-process llama.cpp backend: a GGUF run by llama-cpp-python, scored like an OpenAI-compatible server.

On this project's 2-core CPU llama.cpp on a Q4 GGUF generates 2.4 times faster than transformers on a bf16
copy and needs a third of the memory (docs/results.md, issue 15). Judgements are scored by the
log-probabilities of lettered options, as for a server, but without HTTP.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from hef_graph.judging import JudgementRequest
from hef_graph.llm.openai_backend import score_by_letters
from hef_graph.llm.runtime import Capabilities, Generation, LLMRuntime, NoLogProbabilities
from hef_graph.prompting import chat_dicts


class LlamaCppChat(BaseChatModel):
    """A LangChain chat model over one in-process ``llama_cpp.Llama`` (one call at a time: it is not thread-safe)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    llama: Any
    """The loaded ``llama_cpp.Llama``."""
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @classmethod
    def from_gguf(cls, path: Path, threads: int | None = None, context_tokens: int = 4096) -> LlamaCppChat:
        """Load a GGUF file (its chat template comes from the file).

        ``logits_all``: llama-cpp-python returns log-probabilities only when it keeps every position's logits
        (as its server does by default); that costs prompt time, not yet measured.
        """
        try:
            from llama_cpp import Llama
        except ImportError:
            raise ImportError("the llama.cpp backend needs `pip install llama-cpp-python`") from None
        llama = Llama(model_path=str(path), n_ctx=context_tokens, n_threads=threads, logits_all=True, verbose=False)
        return cls(llama=llama)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._lock:
            out = self.llama.create_chat_completion(chat_dicts(messages), stop=stop, **kwargs)
        choice = out["choices"][0]
        message = AIMessage(choice["message"]["content"] or "", response_metadata={"logprobs": choice.get("logprobs")})
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        with self._lock:
            for part in self.llama.create_chat_completion(chat_dicts(messages), stop=stop, stream=True, **kwargs):
                text = part["choices"][0]["delta"].get("content") or ""
                if text:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                    if run_manager is not None:
                        run_manager.on_llm_new_token(text, chunk=chunk)
                    yield chunk


class LlamaCppRuntime(LLMRuntime):
    """A GGUF in process through llama.cpp: scored judgements (lettered options), streamed replies."""

    capabilities = Capabilities(score_labels=True, stream=True, reuse_prefix=False)

    def option_log_likelihoods(self, request: JudgementRequest) -> dict[str, float]:
        """Score the lettered options by the log-probability of the answer's first token."""
        scores = score_by_letters(self.chat_model, request, max_tokens=1)
        if scores is None:
            raise NoLogProbabilities(f"{self.name} returned no log-probabilities")
        return scores

    def call_kwargs(self, messages: Sequence[BaseMessage], caps: Generation) -> dict[str, Any]:
        """Greedy decoding with the reply's caps."""
        return {"max_tokens": caps.max_new_tokens, "repeat_penalty": caps.repetition_penalty, "temperature": 0.0}
