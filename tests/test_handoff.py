"""Human hand-off: crisis turns and requests for a human pause before any reply is sent, a person resumes."""

import os
import uuid

import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from hef_graph import Context, HandoffError, build_graph, pending_handoff, resume_handoff, sqlite_checkpointer
from hef_graph.handoff import asks_for_human
from hef_graph.prompting import render_prompt
from tests.conftest import ScriptedSEM, ScriptedTagger, fake_llm, run_script

CRISIS = "I want to kill myself"
ASK = "Can I talk to a real person please?"
UNUSED = "THE LLM MUST NOT WRITE THIS"
SAFE = render_prompt("safe_reply")


def graph(*answers: str, checkpointer=None, sem=None):
    return build_graph(checkpointer=checkpointer or InMemorySaver(), llm=fake_llm(*answers or (UNUSED,)),
                       sem=sem or ScriptedSEM(), cause_tagger=ScriptedTagger())  # fmt: skip


def thread() -> dict:
    return {"configurable": {"thread_id": uuid.uuid4().hex}}


def replies(state) -> list[str]:
    return [m.content for m in state["messages"] if isinstance(m, AIMessage)]


HANDOFF = Context(handoff=True)


def test_without_handoff_a_crisis_gets_the_safe_reply_at_once():
    out = graph().invoke({"messages": [("user", CRISIS)]}, thread())
    assert "__interrupt__" not in out and replies(out) == [SAFE]
    assert out["handoff_reason"] is None and not out["handoff_pending"]


def test_without_handoff_a_request_for_a_human_is_answered_by_hef():
    out = graph("sad", "I hear you.").invoke({"messages": [("user", ASK)]}, thread())
    assert "__interrupt__" not in out and replies(out) == ["I hear you."]


def test_a_crisis_turn_pauses_before_any_reply_with_the_full_payload():
    hef, config = graph(), thread()
    out = hef.invoke({"messages": [("user", CRISIS)]}, config, context=Context(reviewer="Sam"))
    (pause,) = out["__interrupt__"]
    assert pause.value == {"reason": "crisis", "dialogue": [CRISIS], "emotion": None, "draft": SAFE,
                           "reviewer": "Sam", "actions": ["send", "edit", "take_over", "hand_back"]}  # fmt: skip
    assert replies(out) == [] and out["reply"] == ""
    assert hef.get_state(config).next == ("hand_off",) and pending_handoff(hef, config) == pause.value


def test_a_softer_crisis_the_sem_confirms_pauses_with_the_sems_emotion():
    hef, config = graph(sem=ScriptedSEM(("devastated", "sad", "lonely"))), thread()
    out = hef.invoke({"messages": [("user", "I can't go on like this")]}, config, context=HANDOFF)
    (pause,) = out["__interrupt__"]
    assert (pause.value["reason"], pause.value["emotion"], pause.value["draft"]) == ("crisis", "devastated", SAFE)
    assert out["judgements"] == [] and replies(out) == []  # no LLM ran


def test_a_request_for_a_human_pauses_without_running_the_llm():
    hef, config = graph(), thread()
    out = hef.invoke({"messages": [("user", "I lost my job"), ("assistant", "Oh no."), ("user", ASK)]}, config,
                     context=HANDOFF)  # fmt: skip
    (pause,) = out["__interrupt__"]
    assert pause.value["reason"] == "asked_for_human" and pause.value["emotion"] == "sad"
    assert pause.value["dialogue"] == ["I lost my job", "Oh no.", ASK]
    assert pause.value["draft"] == render_prompt("handoff_reply") and out["judgements"] == []


@pytest.mark.parametrize(
    ("answer", "sent"),
    [
        ({"action": "send"}, SAFE),
        ("send", SAFE),
        (
            {"action": "edit", "reply": "I'm Sam, a person. I'm here with you now."},
            "I'm Sam, a person. I'm here with you now.",
        ),
        ({"action": "take_over"}, None),
        ({"action": "hand_back", "reply": "Sam here; I'll stay close."}, "Sam here; I'll stay close."),
    ],
)
def test_each_resume_action_sends_exactly_what_it_says(answer, sent):
    hef, config = graph(), thread()
    hef.invoke({"messages": [("user", CRISIS)]}, config, context=HANDOFF)
    out = hef.invoke(Command(resume=answer), config, context=HANDOFF)
    assert replies(out) == ([sent] if sent else [])
    action = answer if isinstance(answer, str) else answer["action"]
    assert out["handoff"] == {"reason": "crisis", "action": action, "reply": sent, "reviewer": None}
    assert not out["handoff_pending"] and pending_handoff(hef, config) is None
    assert out["taken_over"] is (action == "take_over")


def test_a_taken_over_thread_waits_for_the_person_on_every_turn_until_handed_back():
    hef, config = graph("sad", "HEF again."), thread()
    hef.invoke({"messages": [("user", ASK)]}, config, context=HANDOFF)
    resume_handoff(hef, config, "take_over", context=HANDOFF)
    out = hef.invoke({"messages": [("user", "Hello? Is someone there?")]}, config)  # even without handoff on
    (pause,) = out["__interrupt__"]
    assert (pause.value["reason"], pause.value["draft"]) == ("taken_over", None) and out["judgements"] == []
    with pytest.raises(HandoffError, match="there is no draft to send on this turn"):
        resume_handoff(hef, config, "send")
    out = resume_handoff(hef, config, "hand_back", "Yes, Sam here. HEF will keep you company now.")
    assert replies(out) == ["Yes, Sam here. HEF will keep you company now."] and not out["taken_over"]
    out = hef.invoke({"messages": [("user", "Thanks, I feel a bit better")]}, config)
    assert "__interrupt__" not in out and replies(out)[-1] == "HEF again."


@pytest.mark.parametrize(
    ("action", "reply", "message"),
    [
        ("escalate", None, "unknown hand-off action 'escalate'; expected one of send, edit, take_over, hand_back"),
        ("edit", None, "action 'edit' needs the text to send"),
        ("edit", "   ", "'reply' must be non-empty text"),
    ],
)
def test_a_refused_answer_is_a_clear_error_and_leaves_the_thread_paused(action, reply, message):
    hef, config = graph(), thread()
    hef.invoke({"messages": [("user", CRISIS)]}, config, context=HANDOFF)
    before = hef.get_state(config)
    with pytest.raises(HandoffError, match=message):
        resume_handoff(hef, config, action, reply)
    after = hef.get_state(config)
    assert after.values == before.values and after.next == ("hand_off",)
    assert replies(resume_handoff(hef, config, "send")) == [SAFE]


def test_a_raw_command_with_a_bad_action_pauses_again_and_says_why():
    hef, config = graph(), thread()
    hef.invoke({"messages": [("user", CRISIS)]}, config, context=HANDOFF)
    out = hef.invoke(Command(resume={"action": "escalate"}), config, context=HANDOFF)
    (pause,) = out["__interrupt__"]
    assert "unknown hand-off action 'escalate'" in pause.value["error"] and replies(out) == []
    out = hef.invoke(Command(resume={"action": "edit", "reply": "I'm here."}), config, context=HANDOFF)
    assert replies(out) == ["I'm here."] and pending_handoff(hef, config) is None


def test_resuming_a_thread_that_is_not_paused_is_a_clear_error():
    hef, config = graph("sad", "Sorry."), thread()
    with pytest.raises(HandoffError, match="is not paused for a hand-off"):
        resume_handoff(hef, config, "send")
    hef.invoke({"messages": [("user", "I lost my keys")]}, config, context=HANDOFF)
    with pytest.raises(HandoffError, match="is not paused for a hand-off"):
        resume_handoff(hef, config, "send")


def test_a_turn_is_never_answered_twice():
    hef, config = graph(), thread()
    hef.invoke({"messages": [("user", CRISIS)]}, config, context=HANDOFF)
    resume_handoff(hef, config, "send")
    out = hef.invoke(Command(resume={"action": "send"}), config, context=HANDOFF)  # a stale second resume
    assert replies(out) == [SAFE]


def test_a_message_sent_while_paused_joins_the_paused_turn_and_gets_one_answer():
    hef, config = graph(), thread()
    hef.invoke({"messages": [("user", CRISIS)]}, config, context=HANDOFF)
    out = hef.invoke({"messages": [("user", "hello? anyone?")]}, config, context=HANDOFF)
    (pause,) = out["__interrupt__"]
    assert pause.value["reason"] == "crisis" and pause.value["dialogue"] == [CRISIS, "hello? anyone?"]
    assert pause.value["draft"] == SAFE
    out = resume_handoff(hef, config, "edit", "I'm a person and I'm here. I read both messages.")
    assert [m.type for m in out["messages"]] == ["human", "human", "ai"]


def test_handoff_without_a_checkpointer_is_a_clear_error():
    hef = build_graph(llm=fake_llm(UNUSED), sem=ScriptedSEM(), cause_tagger=ScriptedTagger())
    with pytest.raises(HandoffError, match="needs a checkpointer"):
        hef.invoke({"messages": [("user", CRISIS)]}, context=HANDOFF)


def test_a_blank_reviewer_is_refused():
    with pytest.raises(ValueError, match="reviewer must be a non-empty name"):
        Context(reviewer=" ")


def test_a_paused_turn_resumes_from_sqlite_in_a_new_graph_object(tmp_path):
    db, config = tmp_path / "threads.sqlite", thread()
    graph(checkpointer=sqlite_checkpointer(db)).invoke({"messages": [("user", CRISIS)]}, config, context=HANDOFF)
    fresh = graph(checkpointer=sqlite_checkpointer(db))
    assert pending_handoff(fresh, config)["reason"] == "crisis"
    out = resume_handoff(fresh, config, "edit", "A person here. I'm with you.")
    assert replies(out) == ["A person here. I'm with you."]


STEP = """
import sys
from hef_graph import Context, build_graph, resume_handoff, sqlite_checkpointer
from tests.conftest import ScriptedSEM, ScriptedTagger, fake_llm
graph = build_graph(checkpointer=sqlite_checkpointer(sys.argv[1]), llm=fake_llm("unused"), sem=ScriptedSEM(),
                    cause_tagger=ScriptedTagger())
config = {"configurable": {"thread_id": "paused"}}
if sys.argv[2] == "pause":
    out = graph.invoke({"messages": [("user", "I want to kill myself")]}, config, context=Context(handoff=True))
    print(out["__interrupt__"][0].value["reason"])
else:
    out = resume_handoff(graph, config, "edit", sys.argv[3])
    print("|".join(m.type + ":" + m.content for m in out["messages"]))
"""


def run_step(*args: str) -> str:
    return run_script(STEP, *args)


@pytest.mark.subprocess
def test_a_paused_turn_survives_a_process_restart(tmp_path):
    db = str(tmp_path / "threads.sqlite")
    assert run_step(db, "pause") == "crisis"
    assert run_step(db, "resume", "A person here.") == "human:I want to kill myself|ai:A person here."


@pytest.mark.parametrize(
    "text",
    ["Can I talk to a real person?", "I want to speak with a human", "please get me a human",
     "I need a real person, not a bot", "human agent please", "Are you a bot? I want a person"],
)  # fmt: skip
def test_requests_for_a_human_are_recognised(text):
    assert asks_for_human(text)


@pytest.mark.parametrize(
    "text",
    ["I don't want to talk to a person right now", "My boss is not a real person to me",
     "I talked to my sister about it", "Humans are complicated", "he is a real person with feelings"],
)  # fmt: skip
def test_other_mentions_of_people_are_not_requests(text):
    assert not asks_for_human(text)


def test_the_graph_draws_the_hand_off_paths():
    drawing = build_graph(llm=fake_llm("x"), sem=ScriptedSEM(), cause_tagger=ScriptedTagger()).get_graph()
    edges = {(edge.source, edge.target) for edge in drawing.edges}
    assert {("safe_reply", "hand_off"), ("detect_emotion", "hand_off"), ("check_input", "hand_off")} <= edges
    assert ("hand_off", "__end__") in edges


def test_the_reviewer_is_recorded_even_when_the_resume_names_none():
    hef, config = graph(), thread()
    hef.invoke({"messages": [("user", CRISIS)]}, config, context=Context(reviewer="Sam"))
    out = resume_handoff(hef, config, "send")  # no context on the resume
    assert out["handoff"]["reviewer"] == "Sam" and replies(out) == [SAFE]


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("HEF_TEST_POSTGRES_URL"),
    reason="no Postgres server: set HEF_TEST_POSTGRES_URL (.ci/run starts one on loopback)",
)
def test_a_paused_turn_resumes_from_postgres_in_a_new_graph_object():
    from hef_graph.persistence import checkpointer_from_url

    url, config = os.environ["HEF_TEST_POSTGRES_URL"], thread()
    graph(checkpointer=checkpointer_from_url(url)).invoke({"messages": [("user", CRISIS)]}, config, context=HANDOFF)
    fresh = graph(checkpointer=checkpointer_from_url(url))
    assert pending_handoff(fresh, config)["reason"] == "crisis"
    assert replies(resume_handoff(fresh, config, "send")) == [SAFE]


def test_hef_chat_shows_the_paused_turn_and_the_reviewer_answers_it(tmp_path):
    import io

    from rich.console import Console

    from hef_graph.chat import ChatSession

    out = io.StringIO()
    chat = ChatSession(db=tmp_path / "t.sqlite", thread="c1", llm=None, console=Console(file=out, width=200),
                       handoff=True)  # fmt: skip
    chat.handle("/handoff")
    chat.handle(CRISIS)  # an explicit crisis statement: no model loads (the unit tier would fail if one did)
    chat.handle("/handoff")
    chat.handle("/handoff escalate")
    chat.handle("/handoff edit I'm Sam, a person. I'm here.")
    chat.handle("/handoff send")
    text = out.getvalue()
    assert "this thread is not waiting for a person" in text
    assert "waiting for a person: crisis" in text and f"draft: {SAFE}" in text
    assert "unknown hand-off action 'escalate'" in text
    assert "hef> I'm Sam, a person. I'm here." in text and "is not paused for a hand-off" in text
    state = chat.graph.get_state(chat.config).values
    assert [m.type for m in state["messages"]] == ["human", "ai"]
