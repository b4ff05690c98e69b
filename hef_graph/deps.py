"""Resolve a node's settings and models from its Runtime (the only way nodes get dependencies)."""

from __future__ import annotations

from pathlib import Path

from langchain_core.language_models import BaseChatModel
from langgraph.runtime import Runtime

from hef_graph.context import Context
from hef_graph.llm import load_llm
from hef_graph.sem.model import EmotionClassifier
from hef_graph.sem.protocol import EmotionModel
from hef_graph.sem.resident import load_sem, shared_batcher


def settings(runtime: Runtime[Context]) -> Context:
    """Return the run's Context, or the defaults when the caller passed none."""
    return runtime.context if runtime.context is not None else Context()


def llm_of(context: Context) -> BaseChatModel:
    """Return the chat model the context names (loaded once per process)."""
    return load_llm(context.llm, context.device)


def sem_of(context: Context) -> EmotionModel:
    """Return the SEM the context names: an EmotionModel, a saved folder, or the shipped default.

    An EmotionClassifier (the shipped kind) is served through its shared micro-batcher when
    ``sem_batching`` asks for it ('auto': on CUDA only), so concurrent conversations share forward passes.
    """
    sem = context.sem
    if sem is None or isinstance(sem, (str, Path)):
        sem = load_sem(sem, context.device)
    if isinstance(sem, EmotionClassifier) and _batching_wanted(context, sem):
        return shared_batcher(sem)
    if not isinstance(sem, EmotionModel):
        raise TypeError(f"sem must implement hef_graph.EmotionModel, got {type(sem).__name__}")
    return sem


def _batching_wanted(context: Context, sem: EmotionClassifier) -> bool:
    if context.sem_batching == "auto":
        return sem.device.type == "cuda"
    return context.sem_batching == "on"
