"""Load the prompt text files shipped as ``hef_graph.prompts`` and render them strictly."""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import get_args

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from hef_graph.labels import Move

PROMPT_NAMES = (
    "system", "dialogue_block", "judge_primary", "judge_fallback", "draft_response",
    "judge_pairwise", "safe_reply", "empty_turn", "judge_lettered", "judge_primary_lettered", "handoff_reply",
    "judge_ranked", "reply_notes", "note_positive", "note_negative", "note_emotion", "note_cause", "note_memory",
    *(f"note_move_{move}" for move in get_args(Move)), *(f"opener_{move}" for move in get_args(Move)),
)  # fmt: skip


ROLES = {"system": "system", "human": "user", "ai": "assistant"}
"""LangChain message types as chat-template roles."""
DIALOGUE_END = "</dialogue>\n"
"""Where the quoted dialogue ends: every prompt about one dialogue is identical up to here."""


class PromptError(KeyError):
    """A prompt file is missing or a template variable was not supplied."""


@functools.cache
def load_prompt(name: str) -> string.Template:
    """Read ``prompts/<name>.txt``; ``$name`` placeholders leave user text (braces included) untouched."""
    if name not in PROMPT_NAMES:
        raise PromptError(f"unknown prompt {name!r}; expected one of {PROMPT_NAMES}")
    text = resources.files("hef_graph.prompts").joinpath(f"{name}.txt").read_text(encoding="utf-8")
    return string.Template(text.strip())


def render_prompt(name: str, **variables: str) -> str:
    """Fill a prompt; a missing variable raises PromptError naming it."""
    template = load_prompt(name)
    try:
        return template.substitute(variables)
    except KeyError as missing:
        raise PromptError(f"prompt {name!r} needs the variable {missing}") from None


def dialogue_prompt(task: str, dialogue: str, **variables: str) -> list[BaseMessage]:
    """Build the messages of one LLM call about a dialogue: system prompt, quoted dialogue, then the task.

    Judgements and replies share everything up to the end of the dialogue, so a local model prefills it
    once per turn (``hef_graph.llm.prefix_cache``).
    """
    quoted = render_prompt("dialogue_block", dialogue=dialogue)
    return [SystemMessage(render_prompt("system")), HumanMessage(f"{quoted}\n{render_prompt(task, **variables)}")]


def chat_dicts(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    """Messages as ``{"role", "content"}`` dicts, the form chat templates and llama.cpp read."""
    return [{"role": ROLES[m.type], "content": str(m.content)} for m in messages]


def judgement_messages(task: str, dialogue: str, candidates: Sequence[str]) -> list[BaseMessage]:
    """A judgement naming its candidates inline; it starts like the reply, so a local model reuses the prefill."""
    return dialogue_prompt(task, dialogue, candidates=", ".join(candidates))


def lettered_judgement_messages(task: str, dialogue: str, options: Mapping[str, str]) -> list[BaseMessage]:
    """A judgement whose options are letters (``{"A": "sad", ...}``), so each answer is one token to score."""
    return dialogue_prompt(task, dialogue, options=lettered_options_text(options))


def lettered_options_text(options: Mapping[str, str]) -> str:
    """One line per option, ``A. sad``; the 'none' candidate reads 'none of these'."""
    return "\n".join(f"{letter}. {'none of these' if label == 'none' else label}" for letter, label in options.items())
