"""The reply's notes: each is given only above its gate, and none is a word list for the LLM to repeat."""

from dataclasses import replace
from typing import get_args

import pytest
from langchain_core.messages import HumanMessage
from langgraph.runtime import Runtime

from hef_graph import Context, as_runtime
from hef_graph.guidance import (
    MAX_QUOTE_WORDS,
    SHUT_GATES,
    GuidanceGates,
    compose_guidance,
    likely_valence,
    reply_messages,
    speaker_clause,
)
from hef_graph.labels import EMOTIONS, LISTENER_MOVE, VALENCE, Move
from hef_graph.llm.runtime import CallPolicy, Generation
from hef_graph.nodes.draft_response import draft_response
from hef_graph.prompting import render_prompt
from tests.conftest import StartingRuntime, fake_llm

DIALOGUE = [
    "I finally got the job at the bakery, after six interviews!",
    "That is wonderful news, congratulations on the bakery job!",
    "Thanks, I start on Monday and I can't stop smiling.",
]
OPEN = GuidanceGates(label_confidence=0.0, valence_confidence=0.0, cause_confidence=0.0, move_confidence=1.01)
SHUT = GuidanceGates(label_confidence=1.01, valence_confidence=1.01, cause_confidence=1.01, move_confidence=1.01)


def word(turn: int, text: str, score: float, occurrence: int = 0) -> dict:
    start = DIALOGUE[turn].index(text)
    for _ in range(occurrence):
        start = DIALOGUE[turn].index(text, start + 1)
    return {"word": text, "score": score, "turn": turn, "start": start, "end": start + len(text)}


def distribution(**shares: float) -> dict[str, float]:
    rest = (1.0 - sum(shares.values())) / (len(EMOTIONS) - len(shares))
    return {label: shares.get(label, rest) for label in EMOTIONS}


def test_every_label_has_a_valence():
    assert set(VALENCE) == set(EMOTIONS)
    assert set(VALENCE.values()) == {"positive", "negative", "ambiguous"}


def test_valence_is_given_only_when_one_side_holds_the_mass():
    assert likely_valence(distribution(joyful=0.6, excited=0.3), 0.85)[0] == "positive"
    assert likely_valence(distribution(sad=0.5, lonely=0.4), 0.85)[0] == "negative"
    side, mass = likely_valence(distribution(joyful=0.45, sad=0.45), 0.85)
    assert side is None and 0.45 <= mass < 0.85
    assert likely_valence(distribution(surprised=0.95), 0.5)[0] is None  # ambiguous labels count for neither side


def test_every_label_has_a_listener_move_whose_note_names_no_label():
    assert set(LISTENER_MOVE) == set(EMOTIONS) and set(LISTENER_MOVE.values()) == set(get_args(Move))
    for move in get_args(Move):
        note = render_prompt(f"note_move_{move}").lower()
        assert note and not [label for label in EMOTIONS if label in note], move


def test_the_move_note_weighs_every_label_that_shares_the_move():
    gates = GuidanceGates(1.01, 1.01, 1.01, move_confidence=0.7)
    shared = compose_guidance(distribution(afraid=0.4, anxious=0.4), "anxious", DIALOGUE, [], gates)
    assert (shared["move"], shared["emotion"]) == ("reassure", None)  # no label reaches 0.7, their move does
    assert shared["notes"] == [render_prompt("note_move_reassure")] and shared["move_mass"] >= 0.8
    split = compose_guidance(distribution(afraid=0.4, sad=0.4), "afraid", DIALOGUE, [], gates)
    assert (split["move"], split["notes"]) == (None, [])


def test_the_quote_is_the_speakers_own_clause_with_the_most_cause_score():
    causes = [word(0, "job", 0.9), word(0, "bakery", 0.8), word(1, "wonderful", 0.99), word(2, "Monday", 0.3)]
    quote, score = speaker_clause(DIALOGUE, causes)
    assert quote == "I finally got the job at the bakery" and score == 0.9  # the listener's turn is never quoted
    assert quote in DIALOGUE[0]


def test_a_long_clause_is_cut_around_its_best_word():
    long_turn = " ".join(f"w{i}" for i in range(40)) + " promotion " + " ".join(f"v{i}" for i in range(40))
    start = long_turn.index("promotion")
    quote, _ = speaker_clause([long_turn], [{"word": "promotion", "score": 0.8, "turn": 0, "start": start,
                                             "end": start + 9}])  # fmt: skip
    assert quote is not None and "promotion" in quote and len(quote.split()) == MAX_QUOTE_WORDS
    assert quote in long_turn


def test_no_cause_words_give_no_quote():
    assert speaker_clause(DIALOGUE, []) == (None, 0.0)


def test_each_note_needs_its_own_evidence():
    causes = [word(0, "job", 0.9)]
    confident = distribution(joyful=0.8, excited=0.15)
    full = compose_guidance(confident, "joyful", DIALOGUE, causes, GuidanceGates(0.7, 0.85, 0.5, 1.01))
    assert (full["valence"], full["emotion"], full["cause_quote"]) == ("positive", "joyful", "I finally got the job "
                                                                       "at the bakery")  # fmt: skip
    assert len(full["notes"]) == 3
    unsure = compose_guidance(distribution(joyful=0.4, sad=0.4), "joyful", DIALOGUE, [word(0, "job", 0.3)],
                              GuidanceGates(0.7, 0.85, 0.5, 1.01))  # fmt: skip
    assert (unsure["valence"], unsure["emotion"], unsure["cause_quote"], unsure["notes"]) == (None, None, None, [])
    assert unsure["emotion_probability"] == 0.4 and unsure["cause_score"] == 0.3


def test_shut_gates_give_exactly_the_framed_prompt():
    shut = compose_guidance(distribution(joyful=0.99), "joyful", DIALOGUE, [word(0, "job", 0.99)], SHUT)
    assert shut["notes"] == []
    assert reply_messages(DIALOGUE, shut["notes"], 1500) == reply_messages(DIALOGUE, [], 1500)


def test_notes_sit_in_the_reply_task_and_never_name_words_as_a_list():
    guidance = compose_guidance(distribution(joyful=0.9), "joyful", DIALOGUE, [word(0, "job", 0.9)], OPEN)
    task = str(reply_messages(DIALOGUE, guidance["notes"], 1500)[-1].content).split("</dialogue>\n")[-1]
    assert task.index("You are the Listener.") < task.index("good news") < task.index("Write your next reply")
    assert '"I finally got the job at the bakery"' in task and "joyful" in task
    assert "mainly about" not in task


def test_draft_response_records_the_guidance_and_sends_its_notes(scripted_sem):
    llm = fake_llm("Six interviews and you got there. What will you bake first?")
    state = {"messages": [HumanMessage(DIALOGUE[-1])], "dialogue": DIALOGUE, "emotion": "joyful",
             "sem_distribution": distribution(joyful=0.9), "cause_words": [word(0, "bakery", 0.9)]}  # fmt: skip
    context = Context(llm=as_runtime(llm), sem=scripted_sem, valence_confidence=0.85, label_confidence=0.7,
                      cause_confidence=0.5)  # fmt: skip
    update = draft_response(state, Runtime(context=context))
    assert update["reply"] == "Six interviews and you got there. What will you bake first?"
    assert update["guidance"]["valence"] == "positive" and update["guidance"]["emotion"] == "joyful"
    assert update["guidance"]["cause_quote"] == "I finally got the job at the bakery"


def test_by_default_only_a_confident_listener_move_is_noted(scripted_sem):
    llm = fake_llm("Six interviews and you got there. What will you bake first?")
    state = {"messages": [HumanMessage(DIALOGUE[-1])], "dialogue": DIALOGUE, "emotion": "joyful",
             "sem_distribution": distribution(joyful=0.9), "cause_words": [word(0, "bakery", 0.99)]}  # fmt: skip
    update = draft_response(state, Runtime(context=Context(llm=as_runtime(llm), sem=scripted_sem)))
    assert update["guidance"]["notes"] == [render_prompt("note_move_share_joy")]
    unsure = state | {"sem_distribution": distribution(joyful=0.4, excited=0.3)}  # share_joy holds only ~0.42
    assert (
        draft_response(unsure, Runtime(context=Context(llm=as_runtime(llm), sem=scripted_sem)))["guidance"]["notes"]
        == []
    )


def test_an_llm_that_does_not_follow_notes_gets_none_unless_asked(scripted_sem):
    llm = as_runtime(fake_llm("Six interviews and you got there. What will you bake first?"))
    small = replace(llm.capabilities, follows_notes=False)
    state = {"messages": [HumanMessage(DIALOGUE[-1])], "dialogue": DIALOGUE, "emotion": "joyful",
             "sem_distribution": distribution(joyful=0.9), "cause_words": []}  # fmt: skip
    noted = Context(llm=llm, sem=scripted_sem)
    assert draft_response(state, Runtime(context=noted))["guidance"]["notes"]  # a served LLM follows them
    llm.capabilities = small  # as the in-process llama.cpp and transformers runtimes declare
    assert draft_response(state, Runtime(context=noted))["guidance"]["notes"] == []
    assert draft_response(state, Runtime(context=replace(noted, reply_notes="on")))["guidance"]["notes"]
    assert Context(reply_notes="on").guidance_gates(llm) != SHUT_GATES
    with pytest.raises(ValueError, match="reply_notes"):
        Context(reply_notes="sometimes")  # type: ignore[arg-type]


@pytest.mark.parametrize("gate", ["label_confidence", "valence_confidence", "move_confidence", "cause_confidence"])
def test_gates_outside_zero_to_one_are_refused(gate):
    with pytest.raises(ValueError, match=gate):
        Context(**{gate: 1.5})
    with pytest.raises(ValueError, match=gate):
        Context(**{gate: -0.1})


def test_a_confident_move_begins_the_reply_of_an_llm_that_can_be_started(scripted_sem):
    llm = StartingRuntime("Six interviews and you got there. What will you bake first?")
    state = {"messages": [HumanMessage(DIALOGUE[-1])], "dialogue": DIALOGUE, "emotion": "joyful",
             "sem_distribution": distribution(joyful=0.9), "cause_words": []}  # fmt: skip
    update = draft_response(state, Runtime(context=Context(llm=llm, sem=scripted_sem)))
    opener = render_prompt("opener_share_joy")
    assert update["guidance"]["opener"] == opener and llm.caps[-1].opener == opener
    assert update["reply"].startswith(opener) and update["guidance"]["notes"] == []
    assert not update["guidance"]["offered"]  # no notes for this LLM, though it got an opener
    unsure = state | {"sem_distribution": distribution(joyful=0.4, excited=0.3)}
    assert draft_response(unsure, Runtime(context=Context(llm=llm, sem=scripted_sem)))["guidance"]["opener"] is None
    assert llm.caps[-1].opener == ""
    off = Context(llm=llm, sem=scripted_sem, reply_opener=False)
    assert draft_response(state, Runtime(context=off))["guidance"]["opener"] is None and llm.caps[-1].opener == ""


def test_an_llm_that_cannot_be_started_gets_no_opener_and_refuses_one(scripted_sem):
    llm = as_runtime(fake_llm("Six interviews and you got there."))
    assert Context().guidance_gates(llm).opener_confidence > 1
    assert Context().guidance_gates(StartingRuntime("x")).opener_confidence == Context().move_confidence
    with pytest.raises(ValueError, match="cannot be made to start a reply"):
        llm.reply([HumanMessage("hi")], Generation(20, opener="Well done"), CallPolicy())


def test_every_move_has_a_short_opener_that_names_no_label():
    for move in get_args(Move):
        opener = render_prompt(f"opener_{move}")
        assert 0 < len(opener.split()) <= 7 and not set(opener.lower().replace(",", "").split()) & set(EMOTIONS)


def test_the_report_counts_openers_and_whether_their_move_fits_the_gold_emotion():
    from hef_graph.lab.evaluation.report import guidance_metrics

    def record(emotion, gold, opener):
        guidance = {"valence": None, "emotion": None, "move": None, "cause_quote": None, "notes": [], "opener": opener}
        return {"emotion": emotion, "gold": gold, "guidance": guidance}

    metrics = guidance_metrics([record("afraid", "anxious", "Oh no, that sounds"), record("sad", "proud", "Oh"),
                                record("joyful", "joyful", None)])  # fmt: skip
    assert metrics["opener_rate"] == pytest.approx(2 / 3) and metrics["opener_precision"] == 0.5
    assert metrics["silent_rate"] == 1.0
