"""The shipped SEM (real weights): the public contract, attribution and the LangChain tool."""

import numpy as np
import pytest
from langchain_core.tools import BaseTool

from hef_graph import EMOTIONS, EmotionModel, SEMTool, load_sem
from hef_graph.sem.attribution import integration_points
from hef_graph.sem.words import join_dialogue

DIALOGUES = [
    ["My dog died this morning. I keep expecting him at the door."],
    ["I got the promotion!", "Congratulations, you earned it.", "Thanks, I worked so hard for this."],
    ["I have my driving test tomorrow morning."],
]


def test_load_sem_is_resident_and_follows_the_protocol(real_sem):
    assert load_sem() is real_sem
    assert isinstance(real_sem, EmotionModel)
    assert tuple(real_sem.labels) == EMOTIONS


def test_predict_proba_shape_order_and_sum(real_sem):
    probabilities = real_sem.predict_proba(DIALOGUES)
    assert probabilities.shape == (3, 32)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert real_sem.predict(DIALOGUES[:1])[0] in {"sad", "devastated", "lonely"}
    assert real_sem.predict([DIALOGUES[2]])[0] in {"anxious", "apprehensive", "afraid", "terrified"}


def test_batched_and_single_predictions_agree(real_sem):
    batched = real_sem.predict_proba(DIALOGUES)
    single = np.vstack([real_sem.predict_proba([d]) for d in DIALOGUES])
    np.testing.assert_allclose(batched, single, atol=1e-4)


def test_top_k_is_sorted_and_a_bare_string_is_one_turn(real_sem):
    top = real_sem.top_k(["My dog died this morning."], k=5)[0]
    assert len(top) == 5
    assert [p for _, p in top] == sorted((p for _, p in top), reverse=True)
    with pytest.raises(TypeError, match="got one string"):
        real_sem.predict_proba("not a list")


def test_cause_words_occur_in_the_dialogue_and_skip_stopwords(real_sem):
    dialogue = DIALOGUES[0]
    pairs = real_sem.cause_words(dialogue, "sad", 4)
    words = {w.text.lower() for w in join_dialogue(dialogue).words}
    assert 0 < len(pairs) <= 4
    assert all(word.lower() in words for word, _ in pairs)
    assert not {w.lower() for w, _ in pairs} & {"my", "this", "i", "at", "the"}
    assert "died" in {w.lower() for w, _ in pairs[:2]}


def test_attribution_depends_on_the_target_label(real_sem):
    dialogue = ["I was so proud of my son at his graduation, but sad my father could not see it."]
    proud = [w for w, _ in real_sem.cause_words(dialogue, "proud", 3)]
    sad = [w for w, _ in real_sem.cause_words(dialogue, "sad", 3)]
    assert proud != sad


def test_analyze_positions_point_at_the_word(real_sem):
    analysis = real_sem.analyze(DIALOGUES[1:2], n=3)[0]
    assert analysis.target == max(analysis.probabilities, key=analysis.probabilities.get)
    for cause in analysis.causes:
        assert DIALOGUES[1][cause.turn][cause.start : cause.end] == cause.word
    with pytest.raises(ValueError, match="unknown emotion 'happy'"):
        real_sem.analyze(DIALOGUES[:1], targets=["happy"])


def test_sem_tool_is_a_langchain_tool(real_sem):
    tool = SEMTool(sem=real_sem)
    assert isinstance(tool, BaseTool) and tool.name == "detect_emotion"
    result = tool.invoke({"dialogue": DIALOGUES[0], "top_k": 2, "num_cause_words": 3})
    assert len(result["primary_emotions"]) == 2
    assert result["primary_emotions"][0] == max(result["distribution"], key=result["distribution"].get)
    assert len(result["cause_words"]) <= 3


def test_integration_points_are_midpoints_then_the_input_with_no_weight():
    alphas, weights = integration_points(4)
    assert alphas.tolist() == [0.125, 0.375, 0.625, 0.875, 1.0]
    assert weights.tolist() == [0.25, 0.25, 0.25, 0.25, 0.0]
    with pytest.raises(ValueError, match="at least one step"):
        integration_points(0)


def test_attributions_add_up_to_the_change_in_the_target_log_probability(real_sem):
    """Completeness, the axiom that makes integrated gradients faithful: scores sum to f(input) - f(baseline)."""
    import torch

    from hef_graph.sem.attribution import integrated_gradients, padded_baseline

    tokenizer = real_sem.tokenizer
    batch = tokenizer([join_dialogue(DIALOGUES[0]).text], return_tensors="pt")
    ids, mask = batch["input_ids"], batch["attention_mask"]
    baseline = padded_baseline(ids, tokenizer.all_special_ids, tokenizer.pad_token_id)
    label = EMOTIONS.index("sad")
    scores = integrated_gradients(real_sem.members, ids, mask, baseline, 64, lambda logits: [label])
    with torch.inference_mode():
        change = sum(
            (torch.log_softmax(m(ids, mask), -1) - torch.log_softmax(m(baseline, mask), -1))[0, label].item()
            for m in real_sem.members
        ) / len(real_sem.members)
    assert scores.sum() == pytest.approx(change, rel=0.1, abs=0.05)
