"""The OpenAI-compatible HTTP backend (vLLM, llama.cpp's server, Ollama, OpenAI) through ``ChatOpenAI``.

Judgements are scored without decoding: the options are lettered (``A. sad``, ``B. lonely``, ...) and one
token is requested with its ``top_logprobs``, so each candidate's log-probability is that of its letter
(``hef_graph.llm.letters``). Servers that return no log-probabilities are judged by generate-and-parse, and
the judgement record says so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from hef_graph.llm.letters import LetterScoringRuntime, letters_from_top_logprobs
from hef_graph.llm.runtime import NO_STREAM, Capabilities, Generation, NoLogProbabilities

OPENAI_URL = "https://api.openai.com"
log = logging.getLogger(__name__)
TOP_LOGPROBS = 20
"""OpenAI's own limit for ``top_logprobs``."""


def is_openai_chat(chat_model: BaseChatModel) -> bool:
    """Tell whether ``chat_model`` is langchain-openai's ChatOpenAI (without importing it when absent)."""
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        return False
    return isinstance(chat_model, ChatOpenAI)


class OpenAIRuntime(LetterScoringRuntime):
    """An OpenAI-compatible chat server: scored judgements by ``logprobs``, streamed replies."""

    capabilities = Capabilities(score_labels=True, stream=True, reuse_prefix=False)

    def __init__(self, chat_model: BaseChatModel) -> None:
        """Wrap a ``ChatOpenAI``; its client's own retries are turned off, as the runtime retries transient faults."""
        if not is_openai_chat(chat_model):
            raise TypeError("OpenAIRuntime needs langchain_openai.ChatOpenAI")
        self.base_url = str(getattr(chat_model, "openai_api_base", None) or OPENAI_URL)
        name = f"{getattr(chat_model, 'model_name', 'model')} at {self.base_url}"
        super().__init__(without_client_retries(chat_model), name)
        self.gives_logprobs = True

    def letter_log_probs(self, messages: Sequence[BaseMessage], letters: Sequence[str]) -> dict[str, float]:
        """Ask for one token with its ``top_logprobs`` and read the letters from them."""
        if not self.gives_logprobs:
            raise NoLogProbabilities(f"{self.base_url} returned no log-probabilities before")
        message = self.chat_model.invoke(list(messages), {"tags": [NO_STREAM]}, logprobs=True,
                                         top_logprobs=TOP_LOGPROBS, temperature=0, **self.length_cap(1))  # fmt: skip
        first = (message.response_metadata.get("logprobs") or {}).get("content") or []
        if not first or not first[0].get("top_logprobs"):
            self.gives_logprobs = False
            raise NoLogProbabilities(f"{self.base_url} returned no log-probabilities")
        return letters_from_top_logprobs(first[0]["top_logprobs"], letters)

    def is_transient(self, error: BaseException) -> bool:
        """Lost connections and timeouts of the HTTP client can pass too."""
        import openai

        return isinstance(error, openai.APIConnectionError) or super().is_transient(error)

    def call_kwargs(self, messages: Sequence[BaseMessage], caps: Generation) -> dict[str, Any]:
        """The reply's length cap, and the repetition penalty where the server is not OpenAI's own."""
        kwargs = self.length_cap(caps.max_new_tokens)
        if not self.base_url.startswith(OPENAI_URL):  # llama.cpp reads repeat_penalty, vLLM repetition_penalty
            penalty = caps.repetition_penalty
            kwargs["extra_body"] = {**kwargs["extra_body"], "repeat_penalty": penalty, "repetition_penalty": penalty}
        return kwargs

    def length_cap(self, tokens: int) -> dict[str, Any]:
        """Cap the answer at ``tokens``.

        ChatOpenAI sends ``max_completion_tokens``, which servers older than that name ignore
        (llama-cpp-python's among them), so other servers also get the older ``max_tokens``.
        """
        if self.base_url.startswith(OPENAI_URL):
            return {"max_tokens": tokens, "extra_body": {}}
        return {"max_tokens": tokens, "extra_body": {"max_tokens": tokens}}


def without_client_retries(chat_model: BaseChatModel) -> BaseChatModel:
    """The same ChatOpenAI with its client's retries off (its clients are rebuilt from the settings it was given)."""
    if getattr(chat_model, "max_retries", None) == 0:
        return chat_model
    if getattr(chat_model, "http_client", None) is not None or getattr(chat_model, "http_async_client", None):
        log.warning("a ChatOpenAI with its own http_client keeps its client's retries; pass max_retries=0 to it")
        return chat_model
    return type(chat_model).model_validate({**chat_model.model_dump(exclude_unset=True), "max_retries": 0})
