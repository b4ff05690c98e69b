"""The in-process backend: a transformers causal LM behind ChatHuggingFace, with scoring and prefix reuse."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from hef_graph.judging import JudgementRequest
from hef_graph.llm.prefix_cache import PrefixCache, chat_prompt_text
from hef_graph.llm.runtime import Capabilities, Generation, LLMRuntime
from hef_graph.llm.scoring import LabelScorer


def is_local_pipeline(chat_model: BaseChatModel) -> bool:
    """Tell whether ``chat_model`` is ChatHuggingFace over an in-process transformers pipeline."""
    inner = getattr(chat_model, "llm", None)
    return type(chat_model).__name__ == "ChatHuggingFace" and hasattr(inner, "pipeline")


class TransformersRuntime(LLMRuntime):
    """A local transformers model: labels are scored in one forward pass, and the prefix prefill is reused.

    Every prompt about a turn starts with the same system prompt and quoted dialogue; the first judgement
    stores that prefix's KV cache, and the next judgement and the reply start from a copy of it.
    """

    capabilities = Capabilities(score_labels=True, stream=True, reuse_prefix=True, follows_notes=False)

    def __init__(self, chat_model: BaseChatModel, name: str | None = None) -> None:
        """Wrap a ChatHuggingFace model whose pipeline runs in this process."""
        if not is_local_pipeline(chat_model):
            raise TypeError("TransformersRuntime needs ChatHuggingFace over an in-process transformers pipeline")
        super().__init__(chat_model, name or str(getattr(chat_model, "model_id", "transformers")))
        pipeline = chat_model.llm.pipeline  # type: ignore[attr-defined]
        self.prefixes = PrefixCache(pipeline.model, pipeline.tokenizer)
        self.scorer = LabelScorer(self.prefixes)

    @property
    def tokenizer(self) -> Any:
        """The model's tokenizer (for counting tokens)."""
        return self.prefixes.tokenizer

    def option_log_likelihoods(self, request: JudgementRequest) -> dict[str, float]:
        """Score each candidate label as the continuation of the judgement prompt."""
        return self.scorer.log_likelihoods(request.messages(), request.candidates)

    def call_kwargs(self, messages: Sequence[BaseMessage], caps: Generation) -> dict[str, Any]:
        """Length caps for the pipeline, and a copy of this turn's stored prefix when there is one.

        Starting from the prefix changes no answer: its token ids are checked against the prompt's.
        """
        pipeline_kwargs: dict[str, Any] = {"max_new_tokens": caps.max_new_tokens,
                                           "repetition_penalty": caps.repetition_penalty}  # fmt: skip
        cache = self.prefixes.reusable(chat_prompt_text(self.tokenizer, messages))
        if cache is not None:
            pipeline_kwargs["cache"] = cache
        return {"pipeline_kwargs": pipeline_kwargs}

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in this model's vocabulary."""
        return len(self.tokenizer(text, add_special_tokens=False).input_ids)

    def clear_prefixes(self) -> None:
        """Forget stored prefixes (benchmarks do, so no pipeline profits from another's prefill)."""
        self.prefixes.clear()
