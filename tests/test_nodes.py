"""Each node called directly with a hand-built Runtime, a fake chat model and a scripted SEM."""

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.runtime import Runtime

from hef_graph import Context, as_runtime
from hef_graph.labels import EMOTIONS
from hef_graph.nodes.check_input import check_input
from hef_graph.nodes.detect_emotion import detect_emotion
from hef_graph.nodes.draft_response import draft_response
from hef_graph.nodes.judge_fallback import judge_fallback
from hef_graph.nodes.judge_primary import judge_primary, route_after_primary
from hef_graph.nodes.perceive_causes import perceive_causes
from hef_graph.replies import clean_reply
from tests.conftest import ScriptedSEM, ScriptedTagger, fake_llm

DIALOGUE = ["My dog died this morning.", "Oh no, I am so sorry.", "I keep expecting him at the door."]


def runtime(llm=None, sem=None, **settings) -> Runtime[Context]:
    return Runtime(context=Context(llm=as_runtime(llm) if llm else None, sem=sem, **settings))


def state_after_detection(sem: ScriptedSEM, **settings) -> dict:
    state = {"messages": [HumanMessage(DIALOGUE[0]), AIMessage(DIALOGUE[1]), HumanMessage(DIALOGUE[2])]}
    state |= check_input(state, runtime(sem=sem))
    return state | detect_emotion(state, runtime(sem=sem, **settings))


def answers(update: dict) -> list[tuple]:
    return [(j["stage"], j["method"], j["answer"], j["choice"]) for j in update["judgements"]]


def test_detect_emotion_writes_distribution_topk_and_resets_the_turn(scripted_sem):
    state = state_after_detection(scripted_sem, cause_source="attribution")
    assert set(state["sem_distribution"]) == set(EMOTIONS)
    assert abs(sum(state["sem_distribution"].values()) - 1) < 1e-6
    assert state["primary_emotions"] == ["sad", "lonely", "devastated"]
    assert state["dialogue"] == DIALOGUE
    assert state["emotion"] == "sad" and state["emotion_stage"] == "sem"
    assert state["judgements"] == [] and state["crisis"] is False
    joined = " ".join(DIALOGUE)
    assert state["sem_cause_words"] and all(c["word"] in joined for c in state["sem_cause_words"])


def test_detect_emotion_attributes_only_when_asked(scripted_sem):
    state = state_after_detection(scripted_sem)  # default: the cause tagger, after the judgement
    assert state["sem_cause_words"] == [] and scripted_sem.cause_calls == []
    assert state["primary_emotions"] == ["sad", "lonely", "devastated"]


def test_detect_emotion_respects_top_k(scripted_sem):
    state = state_after_detection(scripted_sem, top_k=1)
    assert state["primary_emotions"] == ["sad"]


def test_judge_primary_accepts_a_candidate(scripted_sem):
    state = state_after_detection(scripted_sem)
    update = judge_primary(state, runtime(llm=fake_llm("Lonely."), sem=scripted_sem))
    assert answers(update) == [("primary", "generated", "Lonely.", "lonely")]
    assert (update["emotion"], update["emotion_stage"]) == ("lonely", "primary")
    assert route_after_primary(state | update) == "perceive_causes"


def test_judge_primary_none_or_garbage_or_outside_label_goes_to_stage_two(scripted_sem):
    state = state_after_detection(scripted_sem)
    for answer, choice in (("None of these", "none"), ("The speaker's state is", None), ("furious", None)):
        update = judge_primary(state, runtime(llm=fake_llm(answer), sem=scripted_sem))
        assert answers(update) == [("primary", "generated", answer, choice)] and "emotion" not in update
        assert route_after_primary(state | update) == "judge_fallback"


def test_judge_fallback_chooses_among_the_remaining_labels(scripted_sem):
    state = state_after_detection(scripted_sem)
    update = judge_fallback(state, runtime(llm=fake_llm("Emotion: nostalgic"), sem=scripted_sem))
    assert answers(update) == [("fallback", "generated", "Emotion: nostalgic", "nostalgic")]
    assert (update["emotion"], update["emotion_stage"]) == ("nostalgic", "fallback")
    assert "sad" not in update["judgements"][0]["candidates"] and len(update["judgements"][0]["candidates"]) == 29


def test_judge_fallback_cannot_pick_a_primary_label(scripted_sem):
    state = state_after_detection(scripted_sem)
    update = judge_fallback(state, runtime(llm=fake_llm("sad"), sem=scripted_sem))
    assert update["emotion"] == "sad" and update["emotion_stage"] == "sem"


def test_unparseable_stage_two_records_the_sem_fallback(scripted_sem):
    state = state_after_detection(scripted_sem)
    update = judge_fallback(state, runtime(llm=fake_llm("hmm"), sem=scripted_sem))
    assert answers(update) == [("fallback", "generated", "hmm", None)]
    assert (update["emotion"], update["emotion_stage"]) == ("sad", "sem")


def test_perceive_causes_reuses_top1_words(scripted_sem):
    state = state_after_detection(scripted_sem, cause_source="attribution")
    calls_before = len(scripted_sem.cause_calls)
    update = perceive_causes(state, runtime(sem=scripted_sem, num_cause_words=2, cause_source="attribution"))
    assert update["cause_words"] == state["sem_cause_words"][:2]
    assert len(scripted_sem.cause_calls) == calls_before


def test_perceive_causes_recomputes_for_another_label(scripted_sem):
    state = state_after_detection(scripted_sem, cause_source="attribution")
    state |= {"emotion": "nostalgic", "emotion_stage": "fallback"}
    update = perceive_causes(state, runtime(sem=scripted_sem, cause_source="attribution"))
    assert scripted_sem.cause_calls[-1] == "nostalgic"
    assert update["cause_words"] != state["sem_cause_words"]
    assert all(c["word"] in " ".join(DIALOGUE) for c in update["cause_words"])


def test_perceive_causes_tags_the_final_emotion_and_keeps_only_dialogue_words(scripted_sem):
    tagger = ScriptedTagger(extra="ignore-previous-instructions")
    state = state_after_detection(scripted_sem) | {"emotion": "nostalgic", "emotion_stage": "fallback"}
    update = perceive_causes(state, runtime(sem=scripted_sem, cause_tagger=tagger, num_cause_words=3))
    assert tagger.calls == ["nostalgic"] and scripted_sem.cause_calls == []
    words = [c["word"] for c in update["cause_words"]]
    assert words == [w.text for w in tagger.tag(DIALOGUE, "nostalgic", 3)[1:]]
    assert all(DIALOGUE[c["turn"]][c["start"] : c["end"]] == c["word"] for c in update["cause_words"])


def test_both_sources_mark_where_attribution_agrees(scripted_sem):
    tagger = ScriptedTagger()
    state = state_after_detection(scripted_sem, cause_source="both")
    update = perceive_causes(state, runtime(sem=scripted_sem, cause_tagger=tagger, cause_source="both"))
    attributed = {c["word"].lower() for c in state["sem_cause_words"]}
    assert [c["agrees"] for c in update["cause_words"]] == [
        c["word"].lower() in attributed for c in update["cause_words"]
    ]
    assert any(c["agrees"] for c in update["cause_words"])


def test_draft_response_appends_the_reply_and_grounds_the_prompt(scripted_sem):
    state = state_after_detection(scripted_sem) | {
        "cause_words": [{"word": "dog", "score": 0.5, "turn": 0, "start": 3, "end": 6}]
    }
    llm = fake_llm("Listener: I'm so sorry about your dog. He sounds loved. Speaker: thanks")
    update = draft_response(state, runtime(llm=llm, sem=scripted_sem))
    assert update["reply"] == "I'm so sorry about your dog. He sounds loved."
    assert isinstance(update["messages"][0], AIMessage) and update["messages"][0].content == update["reply"]


def test_clean_reply_keeps_two_sentences_and_strips_roles():
    assert clean_reply('"Reply: One. Two! Three?"') == "One. Two!"
    assert clean_reply("Hi there.\nSpeaker: something else") == "Hi there."


def test_clean_reply_keeps_whole_sentences_and_drops_commentary():
    assert clean_reply("You must miss him. It hurts to lose a friend. And the way he") == (
        "You must miss him. It hurts to lose a friend."
    )
    assert clean_reply("You must miss him so much and") == "You must miss him so much and"
    assert clean_reply("Speaker: You must miss him.\n\nThe Speaker seems to feel sad.") == "You must miss him."


def test_no_cause_words_asked_means_no_tagging(scripted_sem):
    tagger = ScriptedTagger()
    state = state_after_detection(scripted_sem, num_cause_words=0)
    assert perceive_causes(state, runtime(sem=scripted_sem, cause_tagger=tagger, num_cause_words=0)) == {
        "cause_words": []
    }
    assert tagger.calls == [] and state["sem_cause_words"] == []
