"""Streaming modes and async entry points."""

import asyncio

from langchain_core.messages import AIMessageChunk

from hef_graph import build_graph
from tests.conftest import ScriptedSEM, ScriptedTagger, fake_llm

INPUT = {"messages": [("user", "Nobody came to my birthday party")]}


def graph():
    return build_graph(
        llm=fake_llm("lonely", "That must have hurt. I'm here."), sem=ScriptedSEM(), cause_tagger=ScriptedTagger()
    )


def test_updates_custom_and_messages_modes():
    seen = {"updates": [], "custom": [], "messages": []}
    for mode, payload in graph().stream(INPUT, stream_mode=["updates", "custom", "messages"]):
        seen[mode].append(payload)
    assert [next(iter(u)) for u in seen["updates"]][:2] == ["check_input", "detect_emotion"]
    assert len(seen["custom"]) == 1 and len(seen["custom"][0]["sem_distribution"]) == 32
    tokens = [c.content for c, meta in seen["messages"] if meta["langgraph_node"] == "draft_response" and
              isinstance(c, AIMessageChunk)]  # fmt: skip
    assert len(tokens) > 1 and "".join(tokens).strip() == "That must have hurt. I'm here."


def test_custom_event_comes_before_the_llm_judges():
    order = [mode for mode, _ in graph().stream(INPUT, stream_mode=["updates", "custom"])]
    assert order.index("custom") < 3  # with, or right after, detect_emotion's update


def test_ainvoke_and_astream():
    async def run():
        out = await graph().ainvoke(INPUT)
        nodes = [next(iter(u)) async for u in graph().astream(INPUT, stream_mode="updates")]
        return out, nodes

    out, nodes = asyncio.run(run())
    assert out["emotion"] == "lonely" and out["reply"]
    assert nodes == ["check_input", "detect_emotion", "judge_primary", "perceive_causes", "draft_response"]
