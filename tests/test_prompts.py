"""Every prompt file renders with sample variables; missing ones fail loudly; stage one opens like the reply."""

import os

import pytest

from hef_graph.judging import JudgementRequest
from hef_graph.prompting import DIALOGUE_END, PROMPT_NAMES, PromptError, dialogue_prompt, render_prompt

SAMPLE = {"dialogue": "Speaker: hi", "candidates": "sad, none", "emotion": "sad", "notes": "", "quote": "my dog",
          "memories": "a week ago they felt sad about exams",
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


def test_stage_one_opens_like_the_reply_so_the_reply_reads_only_the_rest():
    dialogue = "Speaker: My dog died."
    request = JudgementRequest("primary", dialogue, {"sad": 0.6, "none": 0.4})
    judgement = str(request.lettered_messages({"A": "sad", "B": "none"})[-1].content)
    reply = str(dialogue_prompt("draft_response", dialogue, notes="")[-1].content)
    shared = os.path.commonprefix([judgement, reply])
    assert DIALOGUE_END in shared and shared.split(DIALOGUE_END, 1)[1] == "You are the Listener."  # the task opens so
    assert "A. sad\nB. none of these" in judgement
