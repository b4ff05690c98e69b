"""The compiled graph's shape, both conditional paths, input errors and multi-turn state."""

import re

import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver

from hef_graph import Context, InvalidInput, build_graph
from tests.conftest import ScriptedSEM, ScriptedTagger, fake_llm

NODES = {"check_input", "detect_emotion", "judge_primary", "judge_fallback", "perceive_causes", "draft_response"}


def test_graph_has_five_nodes_and_both_conditional_paths():
    drawing = build_graph(llm=fake_llm("x"), sem=ScriptedSEM(), cause_tagger=ScriptedTagger()).get_graph()
    assert NODES <= set(drawing.nodes)
    edges = {(edge.source, edge.target, edge.conditional) for edge in drawing.edges}
    assert ("judge_primary", "judge_fallback", True) in edges
    assert ("judge_primary", "perceive_causes", True) in edges
    assert ("judge_fallback", "perceive_causes", False) in edges


def test_stage_one_path_skips_stage_two():
    graph = build_graph(
        llm=fake_llm("lonely", "I'm sorry you feel alone."), sem=ScriptedSEM(), cause_tagger=ScriptedTagger()
    )
    visited = [next(iter(step)) for step in graph.stream({"messages": [("user", "Nobody called me on my birthday")]})]
    assert visited == ["check_input", "detect_emotion", "judge_primary", "perceive_causes", "draft_response"]


def test_forced_stage_two_is_visible_in_state():
    sem = ScriptedSEM()
    graph = build_graph(llm=fake_llm("none", "Emotion: nostalgic", "That sounds bittersweet."), sem=sem)
    tagger = ScriptedTagger()
    out = graph.invoke(
        {"messages": [("user", "I found my old school photos today")]}, context=Context(cause_tagger=tagger)
    )
    assert out["emotion"] == "nostalgic" and out["emotion_stage"] == "fallback"
    first, second = out["judgements"]
    assert (first["stage"], first["answer"], first["choice"]) == ("primary", "none", "none")
    assert (second["stage"], second["answer"], second["choice"]) == ("fallback", "Emotion: nostalgic", "nostalgic")
    assert first["method"] == second["method"] == "generated"
    assert tagger.calls == ["nostalgic"] and sem.cause_calls == []
    assert isinstance(out["messages"][-1], AIMessage) and out["messages"][-1].content == out["reply"]


def test_public_output_keys():
    out = build_graph(llm=fake_llm("sad", "I'm sorry."), sem=ScriptedSEM(), cause_tagger=ScriptedTagger()).invoke(
        {"messages": [("user", "I failed")]}
    )
    assert {"messages", "sem_distribution", "primary_emotions", "emotion", "emotion_stage", "cause_words"} <= set(out)
    assert len(out["sem_distribution"]) == 32
    assert all(set(cause) >= {"word", "score"} for cause in out["cause_words"])


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        ([], "messages is empty"),
        ([("user", "hi"), ("assistant", "hello")], "the last message must be the user's"),
    ],
)
def test_invalid_input_raises_a_value_error_subclass(messages, message):
    graph = build_graph(llm=fake_llm("sad"), sem=ScriptedSEM(), cause_tagger=ScriptedTagger())
    with pytest.raises(InvalidInput, match=re.escape(message)):
        graph.invoke({"messages": messages})
    assert issubclass(InvalidInput, ValueError)


def test_turns_accumulate_on_a_thread_and_fields_are_reset():
    graph = build_graph(
        checkpointer=InMemorySaver(),
        llm=fake_llm("none", "nostalgic", "Old photos bring things back.", "sad", "I'm sorry."),
        sem=ScriptedSEM(),
        cause_tagger=ScriptedTagger(),
    )
    config = {"configurable": {"thread_id": "t1"}}
    first = graph.invoke({"messages": [("user", "I found old photos")]}, config)
    assert first["emotion_stage"] == "fallback" and first["judgements"][-1]["answer"] == "nostalgic"
    second = graph.invoke({"messages": [("user", "They remind me of my late grandma")]}, config)
    assert len(second["messages"]) == 4
    assert second["dialogue"] == [
        "I found old photos",
        "Old photos bring things back.",
        "They remind me of my late grandma",
    ]
    assert second["emotion_stage"] == "primary" and [j["stage"] for j in second["judgements"]] == ["primary"]
