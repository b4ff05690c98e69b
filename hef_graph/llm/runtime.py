"""The LLM boundary: one runtime object per LLM, which nodes ask for a judgement or a reply.

A runtime owns its chat model and whatever it keeps between calls (a local model's tokenizer, prefix
cache and label scorer); nodes never see those. It says what it can do (``Capabilities``), bounds each
call by a timeout, and retries only faults that can pass (timeouts, lost connections, HTTP 429 and 5xx).
This base class serves any LangChain chat model by generate-and-parse; the backends in this package
add scoring by log-probabilities.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.runnables import RunnableConfig

from hef_graph.errors import LLMUnavailable
from hef_graph.judging import (
    Judgement,
    JudgementDesign,
    JudgementRequest,
    failed_judgement,
    generated_judgement,
    scored_judgement,
    settled_judgement,
)

T = TypeVar("T")
log = logging.getLogger(__name__)
TRANSIENT_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
NO_STREAM = "nostream"
"""LangGraph leaves runs with this tag out of stream_mode="messages"."""


@dataclass(frozen=True)
class Capabilities:
    """What a runtime can do beyond generating text."""

    score_labels: bool
    """Judge by the log-probabilities of the candidates, without decoding."""
    stream: bool
    """Stream reply tokens to LangChain callbacks (``graph.stream(..., stream_mode="messages")``)."""
    reuse_prefix: bool
    """Reuse the prefill of the prompt part that a turn's calls share."""
    follows_notes: bool = True
    """Writes better replies with the SEM's notes, or at least no worse. The embedded small LLMs do not: on ED
    valid, blind raters preferred their replies without notes (docs/results.md, issue 28)."""
    starts_replies: bool = False
    """Can be made to start a reply with given words (``Generation.opener``), e.g. by completing the chat
    template's prompt after them; a chat API that only answers whole messages cannot."""
    judgement_design: JudgementDesign = "staged"
    """The emotion-judgement design this LLM gets by default (``Context.judgement_design="auto"``). HEF's staged
    judgement is every runtime's for now; which design a strong served LLM should get is measured on ED
    (``hef judge``, docs/results.md, issue 34), never decided by a model's name."""


@dataclass(frozen=True)
class CallPolicy:
    """How long one call may take and how often a transient fault is retried."""

    attempts: int = 3
    timeout_s: float = 120.0


@dataclass(frozen=True)
class Generation:
    """Length and repetition caps of one generated text."""

    max_new_tokens: int
    repetition_penalty: float = 1.3
    stop_after_sentences: int | None = None
    """A reply's sentence cap: a backend that can may stop once that many whole sentences are settled
    (``replies.reply_is_settled``), which leaves the cleaned reply as it would be without stopping."""
    opener: str = ""
    """Words the text must start with; the model continues after them and the text returned includes them.
    Only for runtimes whose ``Capabilities.starts_replies`` is true."""


class NoLogProbabilities(RuntimeError):
    """The backend answered but gave no log-probabilities, so the judgement must be generated."""


class LLMRuntime:
    """Any LangChain chat model as HEF uses it: judgements are generated and parsed."""

    capabilities = Capabilities(score_labels=False, stream=True, reuse_prefix=False)

    def __init__(self, chat_model: BaseChatModel, name: str | None = None) -> None:
        """Wrap ``chat_model``; ``name`` says which LLM it is in logs and errors."""
        if not isinstance(chat_model, BaseChatModel):
            raise TypeError(f"an LLM runtime wraps a LangChain chat model, got {type(chat_model).__name__}")
        self.chat_model = chat_model
        self.name = name or type(chat_model).__name__
        self._calls = ThreadPoolExecutor(max_workers=8, thread_name_prefix="llm-call")

    def __repr__(self) -> str:
        """Name the backend and the model."""
        return f"{type(self).__name__}({self.name!r})"

    def judge(self, request: JudgementRequest, policy: CallPolicy) -> Judgement:
        """Answer ``request``: scored where the runtime can and the request allows, else generated.

        A judgement that still fails after the retries is recorded as failed (the SEM's reading stands);
        programming errors are raised.
        """
        if request.method == "score" and not self.capabilities.score_labels:
            raise ValueError(f"judgement='score' needs an LLM that gives log-probabilities; {self.name} does not")
        note = None
        try:
            if request.scorable and self.capabilities.score_labels:
                if (settled := request.settled_choice()) is not None:
                    return settled_judgement(request, settled)
                try:
                    scores = self.call(lambda: self.option_log_likelihoods(request), policy, "judgement")
                    return scored_judgement(request, scores, offered_note(request, scores))
                except NoLogProbabilities as missing:
                    note = f"generated: {missing}"
            messages = request.messages()
            caps = Generation(request.max_new_tokens, request.repetition_penalty)
            text = self.call(lambda: self.generate(messages, caps, streamed=False), policy, "judgement")
            return generated_judgement(request, text, note)
        except LLMUnavailable as error:
            log.warning("%s", error)
            return failed_judgement(request, error)

    def reply(
        self,
        messages: Sequence[BaseMessage],
        caps: Generation,
        policy: CallPolicy,
        config: RunnableConfig | None = None,
    ) -> str:
        """Generate a reply to ``messages``; raise LLMUnavailable when the LLM keeps failing.

        ``config`` adds callbacks outside a graph run (inside one, the run's own reach the model).
        """
        if caps.opener and not self.capabilities.starts_replies:
            raise ValueError(f"{self.name} cannot be made to start a reply with given words (Generation.opener)")
        return self.call(lambda: self.generate(messages, caps, config=config), policy, "drafting the reply")

    def clear_prefixes(self) -> None:
        """Forget any prompt prefix kept for reuse (benchmarks compare pipelines from a cold prefix)."""

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` by the model's own tokenizer where the runtime has it, else whitespace words."""
        return len(text.split())

    def option_log_likelihoods(self, request: JudgementRequest) -> dict[str, float]:
        """Return log P(answer = candidate) for each candidate (backends with ``score_labels``)."""
        raise NoLogProbabilities(f"{self.name} gives no log-probabilities")

    def generate(
        self,
        messages: Sequence[BaseMessage],
        caps: Generation,
        streamed: bool = True,
        config: RunnableConfig | None = None,
    ) -> str:
        """One chat completion's text; LangChain callbacks of the current run see it.

        With ``streamed`` False the call is tagged so LangGraph's "messages" stream leaves it out
        (a judgement's answer is no part of the reply).
        """
        log.debug("prompt to %s: %s", self.name, messages)
        config = RunnableConfig(**(config or {}))
        if not streamed:
            config["tags"] = [*config.get("tags", []), NO_STREAM]
        return message_text(self.chat_model.invoke(list(messages), config, **self.call_kwargs(messages, caps)))

    def call_kwargs(self, messages: Sequence[BaseMessage], caps: Generation) -> dict[str, Any]:
        """Backend-specific arguments of one generation (none for an arbitrary chat model)."""
        return {}

    def is_transient(self, error: BaseException) -> bool:
        """Tell whether a fault can pass on a retry: a timeout, a lost connection, HTTP 408/409/429/5xx."""
        if isinstance(error, (TimeoutError, ConnectionError)):
            return True
        status = getattr(error, "status_code", None) or getattr(getattr(error, "response", None), "status_code", None)
        return isinstance(status, int) and status in TRANSIENT_STATUS

    def call(self, work: Callable[[], T], policy: CallPolicy, what: str) -> T:
        """Run ``work`` within the policy's timeout, retrying transient faults; then raise LLMUnavailable."""
        for attempt in range(1, policy.attempts + 1):
            try:
                return self._within(work, policy.timeout_s)
            except Exception as error:
                if not self.is_transient(error):
                    raise
                if attempt == policy.attempts:
                    raise LLMUnavailable(
                        f"{what} failed: {self.name} gave no answer after {attempt} attempts "
                        f"({type(error).__name__}: {error})"
                    ) from error
                log.info("%s: transient fault from %s (%s), retrying", what, self.name, type(error).__name__)
                time.sleep(min(2.0, 0.2 * 2 ** (attempt - 1)))
        raise ValueError(f"policy.attempts must be >= 1, got {policy.attempts}")

    def _within(self, work: Callable[[], T], timeout_s: float) -> T:
        """Run ``work`` in a worker thread; a call still running after ``timeout_s`` is abandoned.

        The worker gets a copy of this thread's context, so LangChain's run config (callbacks, and with
        them "messages" streaming) reaches the chat model. A thread cannot be killed: a local generation
        that overruns finishes in the background.
        """
        future = self._calls.submit(contextvars.copy_context().run, work)
        try:
            return future.result(timeout=timeout_s)
        except FuturesTimeout:
            raise TimeoutError(f"{self.name} did not answer within {timeout_s:g} s") from None


def offered_note(request: JudgementRequest, scores: Mapping[str, float]) -> str | None:
    """Say so when a backend could offer only some candidates (those the SEM finds most likely)."""
    if len(scores) == len(request.candidates):
        return None
    return f"offered {len(scores)} of {len(request.candidates)} candidates, those the SEM finds most likely"


def message_text(message: BaseMessage) -> str:
    """Return a message's text whether its content is a string or a list of blocks."""
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(block if isinstance(block, str) else str(block.get("text", "")) for block in content)
