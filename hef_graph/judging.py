"""One emotion judgement by the LLM: scored against the SEM prior where possible, else generated."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from langchain_core.messages import BaseMessage

from hef_graph.context import Context
from hef_graph.deps import llm_of
from hef_graph.dialogue import format_dialogue
from hef_graph.errors import LLMUnavailable
from hef_graph.llm import chat, with_retries
from hef_graph.prompting import dialogue_prompt
from hef_graph.scoring import combine, describe, scorer_for


@dataclass(frozen=True)
class Verdict:
    """The LLM's judgement: its raw text, and the label it chose when the answer was scored."""

    text: str
    scored_choice: str | None = None


def judge(context: Context, prompt: str, dialogue: Sequence[str], prior: Mapping[str, float]) -> Verdict:
    """Ask the LLM which candidate (the keys of ``prior``) fits the dialogue.

    With ``judgement`` 'score' (or 'auto' and an in-process model) the candidates are scored as
    continuations and combined with the SEM prior; otherwise the answer is generated, to be parsed.
    """
    llm = llm_of(context)
    messages = judgement_messages(prompt, dialogue, list(prior), context.max_prompt_chars)
    scorer = scorer_for(llm) if context.judgement != "generate" else None
    if context.judgement == "score" and scorer is None:
        raise ValueError("judgement='score' needs an in-process transformers LLM; use 'auto' or 'generate'")
    try:
        if scorer is None:
            text = with_retries(
                lambda: chat(llm, messages, context.judge_max_new_tokens, context.repetition_penalty,
                             timeout_s=context.llm_timeout_s),
                context.llm_attempts,
                "judgement",
            )  # fmt: skip
            return Verdict(text)
        likelihoods = with_retries(
            lambda: scorer.log_likelihoods(messages, list(prior)), context.llm_attempts, "judgement"
        )
    except LLMUnavailable as error:  # the SEM's reading stands: the parser finds no label in this text
        return Verdict(f"(judgement failed: {error})")
    posterior = combine(prior, likelihoods, context.llm_weight)
    return Verdict(describe(posterior), max(posterior, key=posterior.__getitem__))


def judgement_messages(
    prompt: str, dialogue: Sequence[str], candidates: list[str], max_chars: int
) -> list[BaseMessage]:
    """The judgement's messages; they start like the reply's, so a local model reuses their prefill."""
    return dialogue_prompt(prompt, format_dialogue(dialogue, max_chars), candidates=", ".join(candidates))
