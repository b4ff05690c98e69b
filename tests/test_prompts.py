"""Every prompt file renders with sample variables; missing ones fail loudly."""

import pytest

from hef_graph.prompting import PROMPT_NAMES, PromptError, render_prompt

SAMPLE = {"dialogue": "Speaker: hi", "candidates": "sad, none", "emotion": "sad", "cause_line": "",
          "reply_a": "a", "reply_b": "b", "options": "A. sad\nB. none of these"}  # fmt: skip


@pytest.mark.parametrize("name", PROMPT_NAMES)
def test_every_prompt_renders(name):
    text = render_prompt(name, **SAMPLE)
    assert text and "$" not in text


def test_missing_variable_and_unknown_prompt_are_named():
    with pytest.raises(PromptError, match="needs the variable 'dialogue'"):
        render_prompt("dialogue_block")
    with pytest.raises(PromptError, match="needs the variable 'candidates'"):
        render_prompt("judge_primary")
    with pytest.raises(PromptError, match="unknown prompt 'nope'"):
        render_prompt("nope")
