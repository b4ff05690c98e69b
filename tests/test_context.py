import re

import pytest

from hef_graph import Context, as_runtime
from tests.conftest import ScriptedSEM, fake_llm


def test_defaults_work_without_arguments():
    context = Context()
    assert context.top_k == 3
    assert context.num_cause_words == 5
    assert context.llm is None and context.sem is None
    assert context.max_new_tokens > 0 and context.repetition_penalty >= 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"top_k": 0}, "top_k must be between 1 and 31, got 0"),
        ({"top_k": 32}, "top_k must be between 1 and 31, got 32"),
        ({"num_cause_words": -1}, "num_cause_words must be between 0 and 50, got -1"),
        ({"repetition_penalty": 0.5}, "repetition_penalty must be >= 1.0, got 0.5"),
        ({"max_new_tokens": 0}, "max_new_tokens and judge_max_new_tokens must be at least 1"),
    ],
)
def test_invalid_settings_are_rejected_with_the_range(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        Context(**kwargs)


def test_with_models_fills_only_unset_fields():
    graph_llm, mine = as_runtime(fake_llm("a")), as_runtime(fake_llm("b"))
    assert Context().with_models(graph_llm, None).llm is graph_llm
    assert Context().with_models("smollm2", "runs/sem").llm_spec == "smollm2"
    assert Context().with_models("smollm2", "runs/sem").sem_path == "runs/sem"
    assert Context(llm=mine).with_models(graph_llm, None).llm is mine
    assert Context(llm_spec="openai:x").with_models(graph_llm, None).llm is None
    sem = ScriptedSEM()
    assert Context(sem=sem).with_models(None, ScriptedSEM()).sem is sem


def test_models_of_the_wrong_type_are_refused_with_the_fix():
    with pytest.raises(TypeError, match="wrap a chat model once with hef_graph.as_runtime"):
        Context(llm=fake_llm("x"))
    with pytest.raises(TypeError, match="must implement hef_graph.EmotionModel"):
        Context(sem="runs/sem")
