"""The in-process llama.cpp backend (the default LLM's engine): a GGUF run by llama-cpp-python.

On this project's 2-core CPU llama.cpp on a Q4 GGUF generates 2.4 times faster than transformers on a bf16
copy and needs a third of the memory (docs/results.md, issue 15). Judgements are scored by lettered
options, as for a server, but from the full next-token distribution, read while the one answer token is
sampled: no ``logits_all`` (which keeps a context-sized logit matrix, 2.5 GB for Qwen's vocabulary).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from hef_graph.llm.letters import LetterScoringRuntime
from hef_graph.llm.runtime import Capabilities, Generation
from hef_graph.prompting import chat_dicts
from hef_graph.replies import reply_is_settled


class LlamaCppChat(BaseChatModel):
    """A LangChain chat model over one in-process ``llama_cpp.Llama`` (one call at a time: it is not thread-safe)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    llama: Any
    """The loaded ``llama_cpp.Llama``."""
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _template: Any = PrivateAttr(default=None)

    @classmethod
    def from_gguf(cls, path: Path, threads: int | None = None, context_tokens: int = 4096) -> LlamaCppChat:
        """Load a GGUF file (its chat template comes from the file).

        ``threads`` defaults to every CPU this process may use: llama-cpp-python's own default, half of them
        (for hyper-threads), leaves one of this project's two cores idle while generating.
        """
        try:
            from llama_cpp import Llama
        except ImportError:
            raise ImportError("the llama.cpp backend needs `pip install llama-cpp-python`") from None
        if threads is None:
            threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        return cls(llama=Llama(model_path=str(path), n_ctx=context_tokens, n_threads=threads, verbose=False))

    def next_token_log_probs(self, messages: Sequence[BaseMessage]) -> np.ndarray:
        """The log-probability of every vocabulary token as the first token of the answer to ``messages``.

        The logits are copied as the one answer token is sampled (a logits processor sees them all), so the
        prompt's prefix shared with the previous call is reused as for any completion.
        """
        seen: list[np.ndarray] = []

        def keep(_ids: Any, logits: np.ndarray) -> np.ndarray:
            seen.append(np.array(logits, dtype=np.float64))
            return logits

        with self._lock:
            self.llama.create_chat_completion(chat_dicts(messages), max_tokens=1, temperature=0.0,
                                              logits_processor=[keep])  # fmt: skip
        logits = seen[0]
        return logits - (logits.max() + np.log(np.exp(logits - logits.max()).sum()))

    def reset(self) -> None:
        """Forget the evaluated prompt (its KV cache is reused only by a call that shares its prefix)."""
        with self._lock:
            self.llama.reset()

    def token_ids(self, text: str) -> list[int]:
        """The ids of the tokens that spell ``text`` alone and after a space (either can start an answer)."""
        ids = {
            tuple(self.llama.tokenize(variant.encode(), add_bos=False, special=False)) for variant in (text, " " + text)
        }
        return [pieces[0] for pieces in ids if len(pieces) == 1]

    def chat_prompt(self, messages: Sequence[BaseMessage]) -> str:
        """The prompt text that the GGUF's chat template makes of ``messages``, ready for the answer.

        The same template llama-cpp-python uses for a chat completion, so a completion of this text plus an
        opener reuses the KV cache of a chat call that shares the prefix.
        """
        if self._template is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            template = self.llama.metadata.get("tokenizer.chat_template")
            if not template:
                raise ValueError("this GGUF has no chat template, so a reply cannot be started with an opener")
            token_text = self.llama._model.token_get_text  # the only public path to special tokens' text
            self._template = Jinja2ChatFormatter(template, eos_token=token_text(self.llama.token_eos()),
                                                 bos_token=token_text(self.llama.token_bos()))  # fmt: skip
        return str(self._template(messages=chat_dicts(messages)).prompt)

    def _start(self, messages: Sequence[BaseMessage], opener: str, **kwargs: Any) -> Any:
        """Call llama.cpp: a chat completion, or with an opener a completion of the chat prompt after it."""
        if not opener:
            return self.llama.create_chat_completion(chat_dicts(messages), **kwargs)
        prompt = self.llama.tokenize((self.chat_prompt(messages) + opener).encode(), add_bos=False, special=True)
        return self.llama.create_completion(prompt, **kwargs)

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
        """One completion; with ``until`` (a test of the text so far) it stops as soon as the test passes.

        With ``opener`` the answer starts with those words (they are part of the text returned).
        """
        if kwargs.get("until") is not None:
            text = "".join(str(chunk.message.content) for chunk in self._stream(messages, stop, None, **kwargs))
            return ChatResult(generations=[ChatGeneration(message=AIMessage(text))])
        kwargs.pop("until", None)
        opener = kwargs.pop("opener", "")
        with self._lock:
            out = self._start(messages, opener, stop=stop, **kwargs)
        choice = out["choices"][0]
        text = opener + choice_text(choice)
        message = AIMessage(text, response_metadata={"logprobs": choice.get("logprobs")})
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        """Stream a completion (the opener first, if any); with ``until`` it ends once the test passes."""
        until: Callable[[str], bool] | None = kwargs.pop("until", None)
        opener: str = kwargs.pop("opener", "")
        so_far = opener
        with self._lock:
            parts = self._start(messages, opener, stop=stop, stream=True, **kwargs)
            if opener:
                yield self._chunk(opener, run_manager)
            for part in parts:
                text = choice_text(part["choices"][0])
                if text:
                    yield self._chunk(text, run_manager)
                    so_far += text
                    if until is not None and until(so_far):
                        parts.close()
                        break

    @staticmethod
    def _chunk(text: str, run_manager: CallbackManagerForLLMRun | None) -> ChatGenerationChunk:
        """A streamed piece of the reply, announced to the run's callbacks."""
        chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
        if run_manager is not None:
            run_manager.on_llm_new_token(text, chunk=chunk)
        return chunk


def choice_text(choice: dict[str, Any]) -> str:
    """A choice's text, whether from a completion (``text``) or a chat completion (``message``/``delta``)."""
    if "text" in choice:
        return str(choice["text"] or "")
    return str((choice.get("message") or choice.get("delta") or {}).get("content") or "")


class LlamaCppRuntime(LetterScoringRuntime):
    """A GGUF in process through llama.cpp: scored judgements (lettered options), streamed replies.

    llama.cpp keeps the last prompt's KV cache and reuses its longest common prefix, so a reply that
    starts like the judgement before it (system prompt and quoted dialogue) reads only its own task.
    """

    capabilities = Capabilities(score_labels=True, stream=True, reuse_prefix=True, follows_notes=False,
                                starts_replies=True)  # fmt: skip
    chat_model: LlamaCppChat

    def __init__(self, chat_model: BaseChatModel, name: str | None = None) -> None:
        """Wrap a LlamaCppChat; a GGUF without a chat template cannot start replies (no template to complete)."""
        super().__init__(chat_model, name)
        if not self.chat_model.llama.metadata.get("tokenizer.chat_template"):
            self.capabilities = replace(self.capabilities, starts_replies=False)

    def clear_prefixes(self) -> None:
        """Drop llama.cpp's kept prompt, so the next call reads its whole prompt."""
        self.chat_model.reset()

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` by the GGUF's tokenizer."""
        return len(self.chat_model.llama.tokenize(text.encode(), add_bos=False, special=False))

    def letter_log_probs(self, messages: Sequence[BaseMessage], letters: Sequence[str]) -> dict[str, float]:
        """Each letter's log-probability (its spellings with and without a leading space summed)."""
        log_probs = self.chat_model.next_token_log_probs(messages)
        return {
            letter: float(np.logaddexp.reduce([log_probs[i] for i in self.chat_model.token_ids(letter)] or [-np.inf]))
            for letter in letters
        }

    def call_kwargs(self, messages: Sequence[BaseMessage], caps: Generation) -> dict[str, Any]:
        """Greedy decoding with the reply's caps and opener; a reply stops once its kept sentences are settled."""
        kwargs: dict[str, Any] = {"max_tokens": caps.max_new_tokens, "repeat_penalty": caps.repetition_penalty,
                                  "temperature": 0.0}  # fmt: skip
        if caps.opener:
            kwargs["opener"] = caps.opener
        if caps.stop_after_sentences:
            kwargs["until"] = partial(reply_is_settled, max_sentences=caps.stop_after_sentences)
        return kwargs
