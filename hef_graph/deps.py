"""Resolve a node's settings and models from its Runtime (the only way nodes get dependencies)."""

from __future__ import annotations

from pathlib import Path

from langchain_core.language_models import BaseChatModel
from langgraph.runtime import Runtime

from hef_graph.context import Context
from hef_graph.llm import load_llm
from hef_graph.sem.protocol import EmotionModel
from hef_graph.sem.resident import load_sem


def settings(runtime: Runtime[Context]) -> Context:
    """Return the run's Context, or the defaults when the caller passed none."""
    return runtime.context if runtime.context is not None else Context()


def llm_of(context: Context) -> BaseChatModel:
    """Return the chat model the context names (loaded once per process)."""
    return load_llm(context.llm, context.device)


def sem_of(context: Context) -> EmotionModel:
    """Return the SEM the context names: an EmotionModel, a saved folder, or the shipped default."""
    if context.sem is None or isinstance(context.sem, (str, Path)):
        return load_sem(context.sem, context.device)
    if not isinstance(context.sem, EmotionModel):
        raise TypeError(f"sem must implement hef_graph.EmotionModel, got {type(context.sem).__name__}")
    return context.sem
