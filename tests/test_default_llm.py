"""The default LLM end to end: Qwen2.5-Coder-1.5B-Instruct through llama.cpp with the shipped SEM.

These tests load the real default (1.1 GB GGUF, installed by `make test`'s set-up) and check what issue 15
asks of a reply: whole sentences about the person's situation, spoken to them, never a turn for the other
speaker and never a description of the conversation.
"""

import math
import re

import pytest

from hef_graph import build_graph, load_llm
from hef_graph.judging import JudgementRequest
from hef_graph.lab.evaluation.reply_metrics import cause_coverage
from hef_graph.llm.llama_cpp_backend import LlamaCppRuntime
from hef_graph.llm.loading import DEFAULT_LLM, default_llm_spec

MESSAGE = "My dog died this morning. I keep expecting him at the door."

pytestmark = pytest.mark.real  # the module's fixture loads a real GGUF


@pytest.fixture(scope="module")
def default_llm():
    return load_llm(DEFAULT_LLM)


def test_without_hef_llm_the_default_is_qwen_through_llama_cpp(monkeypatch):
    monkeypatch.delenv("HEF_LLM", raising=False)
    assert default_llm_spec() == DEFAULT_LLM == "llama.cpp:qwen1.5b"
    monkeypatch.setenv("HEF_LLM", "smollm2")
    assert default_llm_spec() == "smollm2"


def test_the_default_graph_writes_a_specific_reply_to_the_person(default_llm, real_sem):
    assert isinstance(default_llm, LlamaCppRuntime)
    out = build_graph(llm=default_llm, sem=real_sem).invoke({"messages": [("user", MESSAGE)]})
    reply = out["reply"]
    first = out["judgements"][0]
    assert first["method"] in ("scored", "settled") and out["emotion"] in ("sad", "devastated", "lonely")
    if first["method"] == "settled":  # the SEM's margin decided: its top-1 stands
        assert out["emotion"] == out["primary_emotions"][0]
    assert re.search(r"[.!?]['\")]*$", reply), f"not a whole sentence: {reply!r}"
    assert re.search(r"\byou(r|'re)?\b", reply, re.IGNORECASE), f"not spoken to the person: {reply!r}"
    assert not re.search(r"\b(speaker|listener)\b|instructions|as data", reply, re.IGNORECASE), reply
    causes = [c["word"] for c in out["cause_words"]]
    assert "dog" in causes and cause_coverage(reply, causes), f"nothing of {causes} in {reply!r}"


@pytest.mark.parametrize("stage", ["primary", "fallback"])
def test_scored_letters_are_exact_log_probabilities(default_llm, stage):
    request = JudgementRequest(stage, f"Speaker: {MESSAGE}", {"sad": 0.5, "joyful": 0.3, "none": 0.2})
    letters = default_llm.letter_log_probs(request.lettered_messages({"A": "sad", "B": "joyful", "C": "none"}),
                                           ["A", "B", "C"])  # fmt: skip
    mass = sum(math.exp(value) for value in letters.values())
    assert letters["A"] > letters["B"] and 0.5 < mass <= 1.0 + 1e-6  # a share of one next-token distribution
