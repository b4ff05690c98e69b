"""The embedding patterns of examples/: (a) and (c) for real, (b) with a scripted tool-calling model."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, ToolMessage

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
sys.path.insert(0, str(EXAMPLES))


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.real
def test_a_hef_as_a_subgraph_shares_messages():
    chatbot = load("subgraph_chatbot").build_chatbot()
    config = {"configurable": {"thread_id": "t"}}
    first = chatbot.invoke({"messages": [("user", "I   lost my   wallet.")]}, config)
    assert first["messages"][0].content == "I lost my wallet."  # the parent's own node ran first
    assert isinstance(first["messages"][-1], AIMessage) and first["messages"][-1].content
    second = chatbot.invoke({"messages": [("user", "It had my grandfather's photo in it.")]}, config)
    assert len(second["messages"]) == 4


@pytest.mark.real
def test_b_hef_as_a_tool_for_create_agent():
    from _scripted_model import calls_then_answers

    example = load("agent_with_hef_tool")
    model = calls_then_answers("empathetic_reply", {"message": example.MESSAGE}, "done")
    out = example.build_agent(model).invoke({"messages": [("user", example.MESSAGE)]})
    tool_message = next(m for m in out["messages"] if isinstance(m, ToolMessage))
    result = json.loads(tool_message.content)
    assert result["reply"] and result["emotion"] and result["emotion_stage"] in {"primary", "fallback", "sem"}
    assert all(word in example.MESSAGE for word in result["cause_words"])


def test_c_the_sem_tool_alone_in_another_agent(real_sem):
    from _scripted_model import calls_then_answers

    example = load("sem_tool_agent")
    model = calls_then_answers("detect_emotion", {"dialogue": example.DIALOGUE, "top_k": 3}, "done")
    out = example.build_agent(model).invoke({"messages": [("user", example.DIALOGUE[-1])]})
    result = json.loads(next(m for m in out["messages"] if isinstance(m, ToolMessage)).content)
    assert len(result["primary_emotions"]) == 3 and len(result["distribution"]) == 32
    assert result["primary_emotions"][0] in {"furious", "angry", "annoyed"}


def test_d_load_llm_accepts_objects_urls_and_rejects_nonsense():
    from hef_graph import load_llm
    from tests.conftest import fake_llm

    model = fake_llm("x")
    runtime = load_llm(model)
    assert runtime.chat_model is model and load_llm(runtime) is runtime
    endpoint = load_llm("http://127.0.0.1:9/")  # built without contacting the server
    assert type(endpoint.chat_model).__name__ == "ChatHuggingFace" and not endpoint.capabilities.score_labels
    with pytest.raises(ValueError, match="unknown LLM 'no-such-model'"):
        load_llm("no-such-model")


def test_e_hand_off_pauses_a_crisis_turn_and_sends_the_reviewers_edit():
    example = load("hand_off")
    request, done = example.run()  # a crisis statement: no model loads (the unit tier would fail if one did)
    assert request["reason"] == "crisis" and request["reviewer"] == example.REVIEWER and request["draft"]
    assert [m.type for m in done["messages"]] == ["human", "ai"] and done["messages"][-1].content == example.EDITED
    assert done["handoff"]["action"] == "edit"


@pytest.mark.real
def test_f_memory_recalls_the_earlier_thread():
    example = load("memory")
    later = example.run(llm="smollm2")
    assert [memory["thread_id"] for memory in later["recalled_memories"]] == ["monday"]
    assert later["reply"]
