"""Resolve a node's settings and models from its Runtime (the only way nodes get dependencies)."""

from __future__ import annotations

from langgraph.runtime import Runtime

from hef_graph.context import Context
from hef_graph.llm import LLMRuntime, load_llm
from hef_graph.memory import PhraseEncoder, load_phrase_encoder
from hef_graph.sem.classifier import EmotionClassifier
from hef_graph.sem.protocol import CauseFinder, EmotionModel
from hef_graph.sem.resident import load_cause_tagger, load_sem


def settings(runtime: Runtime[Context]) -> Context:
    """Return the run's Context, or the defaults when the caller passed none."""
    return runtime.context if runtime.context is not None else Context()


def llm_of(context: Context) -> LLMRuntime:
    """Return the context's LLM runtime, loading its spec into the model cache on first use."""
    return context.llm if context.llm is not None else load_llm(context.llm_spec, context.device)


def sem_of(context: Context) -> EmotionModel:
    """Return the context's SEM: its object, or its saved folder (default: the shipped one) from the model cache.

    An EmotionClassifier (the shipped kind) is served through its own micro-batcher when ``sem_batching``
    asks for it ('auto': on CUDA only), so concurrent conversations share forward passes.
    """
    sem = context.sem if context.sem is not None else load_sem(context.sem_path, context.device)
    if isinstance(sem, EmotionClassifier) and _batching_wanted(context, sem):
        return sem.batched()
    return sem


def cause_tagger_of(context: Context) -> CauseFinder:
    """Return the context's cause tagger: its object, else the shipped one from the model cache."""
    return context.cause_tagger if context.cause_tagger is not None else load_cause_tagger(device=context.device)


def _batching_wanted(context: Context, sem: EmotionClassifier) -> bool:
    if context.sem_batching == "auto":
        return sem.device.type == "cuda"
    return context.sem_batching == "on"


def memory_encoder_of(context: Context) -> PhraseEncoder:
    """Return the context's phrase encoder, else the shipped MiniLM from the model cache."""
    return context.memory_encoder if context.memory_encoder is not None else load_phrase_encoder()
