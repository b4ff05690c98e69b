"""A refused input leaves no trace (issue 36): the thread reads exactly as before, and the next turn works."""

import asyncio
import re
import uuid

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from hef_graph import Context, InvalidInput, build_graph, pending_handoff, sqlite_checkpointer
from hef_graph.compiled import check_turn
from tests.conftest import ScriptedSEM, ScriptedTagger, fake_llm

NOT_A_LIST = "messages must be a list of chat messages"
UNREADABLE = "a message could not be read"
NOT_THE_USERS = "the last message must be the user's (a HumanMessage), got AIMessage"
MALFORMED = {
    "role 'wizard'": ({"messages": [{"role": "wizard", "content": "abracadabra"}]}, UNREADABLE),
    "a bare string": ({"messages": "hello"}, NOT_A_LIST),
    "a number": ({"messages": 5}, NOT_A_LIST),
    "None": ({"messages": None}, NOT_A_LIST),
    "a dict without content": ({"messages": [{"role": "user"}]}, UNREADABLE),
    "a number in the list": ({"messages": [5]}, UNREADABLE),
    "the assistant's last": ({"messages": [("user", "hi"), ("assistant", "I am you")]}, NOT_THE_USERS),
    "an empty list": ({"messages": []}, NOT_THE_USERS),
    "no messages key": ({}, NOT_THE_USERS),
    "not a dict": ("I am sad", "the input must be a dict"),
    "a Command's unreadable update": (Command(update={"messages": "hello"}), NOT_A_LIST),
}
FIRST, SECOND = "My cat died this morning.", "And now the house is so quiet."


def checkpointers(tmp_path):
    return {"memory": InMemorySaver(), "sqlite": sqlite_checkpointer(tmp_path / "threads.sqlite")}


def graph(checkpointer):
    llm = fake_llm("sad", "I'm so sorry.", "lonely", "That silence is hard.")
    return build_graph(checkpointer=checkpointer, llm=llm, sem=ScriptedSEM(), cause_tagger=ScriptedTagger())


def thread() -> dict:
    return {"configurable": {"thread_id": uuid.uuid4().hex}}


def texts(messages) -> list[tuple[str, str]]:
    return [(type(m).__name__, m.content) for m in messages]


@pytest.mark.parametrize("saver", ["memory", "sqlite"])
@pytest.mark.parametrize("kind", list(MALFORMED))
def test_a_refused_turn_leaves_the_thread_as_it_was(tmp_path, saver, kind):
    payload, message = MALFORMED[kind]
    hef, config = graph(checkpointers(tmp_path)[saver]), thread()
    hef.invoke({"messages": [("user", FIRST)]}, config)
    before, history = hef.get_state(config), list(hef.get_state_history(config))

    with pytest.raises(InvalidInput, match=re.escape(message)):
        hef.invoke(payload, config)

    after = hef.get_state(config)
    assert after.values == before.values and after.next == before.next == () and after.tasks == ()
    assert after.config == before.config  # no checkpoint was added: the same one is the latest
    assert list(hef.get_state_history(config)) == history
    out = hef.invoke({"messages": [("user", SECOND)]}, config)
    assert texts(out["messages"]) == [("HumanMessage", FIRST), ("AIMessage", "I'm so sorry."),
                                      ("HumanMessage", SECOND), ("AIMessage", "That silence is hard.")]  # fmt: skip
    assert out["emotion"] == "lonely"


def test_ainvoke_refuses_before_anything_is_stored_too():
    hef, config = graph(InMemorySaver()), thread()
    hef.invoke({"messages": [("user", FIRST)]}, config)
    before = hef.get_state(config)
    with pytest.raises(InvalidInput, match=re.escape(UNREADABLE)):
        asyncio.run(hef.ainvoke({"messages": [{"role": "wizard", "content": "hi"}]}, config))
    assert hef.get_state(config) == before
    out = asyncio.run(hef.ainvoke({"messages": [("user", SECOND)]}, config))
    assert out["reply"] == "That silence is hard."


def test_a_thread_paused_for_a_person_stays_paused_after_a_refused_turn():
    hef, config = graph(InMemorySaver()), thread()
    hef.invoke({"messages": [("user", "Can I talk to a real person please?")]}, config, context=Context(handoff=True))
    before, request = hef.get_state(config), pending_handoff(hef, config)
    assert before.next == ("hand_off",) and request is not None
    with pytest.raises(InvalidInput, match=re.escape(NOT_A_LIST)):
        hef.invoke({"messages": "hello?"}, config, context=Context(handoff=True))
    assert hef.get_state(config) == before and pending_handoff(hef, config) == request


def test_the_first_turn_of_a_new_thread_is_refused_without_creating_the_thread(tmp_path):
    hef, config = graph(sqlite_checkpointer(tmp_path / "threads.sqlite")), thread()
    with pytest.raises(InvalidInput, match="messages is empty"):
        hef.invoke({"messages": []}, config)
    assert list(hef.get_state_history(config)) == []


def test_a_run_inside_another_graph_checks_only_its_own_input():
    """Where the thread is unknown (None), only what the reducer refuses is refused here; check_input does the rest."""
    check_turn({"messages": [("assistant", "the parent's reply")]}, None)  # check_input decides, in the graph
    with pytest.raises(InvalidInput, match=re.escape(NOT_A_LIST)):
        check_turn({"messages": "hello"}, None)
    with pytest.raises(InvalidInput, match=re.escape(NOT_THE_USERS)):
        check_turn({"messages": [("assistant", "the parent's reply")]}, [HumanMessage("hi"), AIMessage("hello")])
    check_turn(None, [])  # a resume starts no new turn
