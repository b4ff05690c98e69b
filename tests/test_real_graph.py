"""End to end with the real embedded LLM (SmolLM2-135M) and the real shipped SEM: structure, not wording."""

import pytest
from langchain_core.messages import AIMessage

from hef_graph import EMOTIONS, Context, build_graph, load_cause_tagger
from hef_graph.sem.words import join_dialogue
from tests.conftest import ask_the_llm, fake_llm

pytestmark = pytest.mark.real

CASES = [
    [("user", "My dog died this morning. I keep expecting him at the door.")],
    [("user", "I finally got the job offer I wanted!")],
    [
        ("user", "I failed my driving test again."),
        ("assistant", "Oh no, what happened?"),
        ("user", "I panicked at the roundabout and the examiner stopped me."),
    ],
]


@pytest.mark.parametrize("messages", CASES)
def test_real_models_answer_with_reasoning(messages, real_llm, real_sem):
    out = build_graph(llm=real_llm, sem=real_sem).invoke({"messages": messages}, context=ask_the_llm())
    assert len(out["messages"]) == len(messages) + 1
    assert isinstance(out["messages"][-1], AIMessage)
    assert out["reply"].strip() and out["messages"][-1].content == out["reply"]
    assert out["emotion"] in EMOTIONS
    assert out["emotion_stage"] in {"primary", "fallback", "sem"}
    if out["emotion_stage"] == "primary":
        assert out["emotion"] in out["primary_emotions"]
    else:
        assert [j["stage"] for j in out["judgements"]] == ["primary", "fallback"]
    assert all(j["method"] == "scored" for j in out["judgements"])
    words = {w.text for w in join_dialogue([text for _, text in messages]).words}
    assert out["cause_words"] and all(c["word"] in words for c in out["cause_words"])
    assert abs(sum(out["sem_distribution"].values()) - 1) < 1e-4


def graph_for_stage_two(sem):
    return build_graph(llm=fake_llm("None of these.", "Emotion: annoyed", "That is frustrating."), sem=sem)


def test_forced_stage_two_on_a_dialogue_whose_gold_is_outside_the_top_k(real_sem):
    dialogue = "My sister borrowed my car and returned it with an empty tank."
    gold = "annoyed"
    assert gold not in [label for label, _ in real_sem.top_k([[dialogue]], 3)[0]]
    out = graph_for_stage_two(real_sem).invoke({"messages": [("user", dialogue)]})
    assert out["emotion"] == gold and out["emotion_stage"] == "fallback"
    expected = [word.text for word in load_cause_tagger().tag([dialogue], gold, 5)]
    assert [c["word"] for c in out["cause_words"]] == expected  # tagged for the final emotion, not the SEM's top-1
    attributed = graph_for_stage_two(real_sem).invoke({"messages": [("user", dialogue)]},
                                                      context=Context(cause_source="attribution"))  # fmt: skip
    assert [c["word"] for c in attributed["cause_words"]] == [w for w, _ in real_sem.cause_words([dialogue], gold, 5)]
