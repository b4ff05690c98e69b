"""Metric code on tiny hand-computed cases."""

import math

import numpy as np
import pytest

from hef_graph.lab.data import DialogueSample, stratified_sample
from hef_graph.lab.evaluation.reply_metrics import bleu, cause_coverage, distinct_n, mean_length, word_tokens
from hef_graph.lab.metrics import (
    expected_calibration_error,
    fit_temperature,
    macro_f1,
    nearest_rank_percentile,
    top_k_accuracy,
)


def test_word_tokens_follow_nltk_treebank_per_sentence():
    assert word_tokens("I'm sorry. That's awful!") == ["I", "'m", "sorry", ".", "That", "'s", "awful", "!"]


def test_distinct_n_is_corpus_level():
    # tokens: [a, b, a] and [a, b]: unigrams 5, distinct 2; bigrams (a,b),(b,a),(a,b): 3, distinct 2
    assert distinct_n(["a b a", "a b"], 1) == pytest.approx(100 * 2 / 5)
    assert distinct_n(["a b a", "a b"], 2) == pytest.approx(100 * 2 / 3)
    assert distinct_n([], 1) == 0.0


def test_bleu_matches_hand_computation():
    assert bleu(["the cat sat"], ["the cat sat"], 1) == pytest.approx(100.0)
    # hypothesis "the cat" vs reference "the cat sat": precision 1, brevity penalty exp(1 - 3/2)
    assert bleu(["the cat"], ["the cat sat"], 1) == pytest.approx(100 * math.exp(1 - 1.5))
    # no bigram overlap: method1 smoothing gives 0.1 / 1 instead of 0 for p2
    assert bleu(["cat the"], ["the cat"], 2) == pytest.approx(100 * math.sqrt(1.0 * 0.1))


def test_macro_f1_by_hand():
    # label a: tp 1, fp 1, fn 0 -> 2/3; label b: tp 0, fp 0, fn 1 -> 0; label c absent -> 0
    assert macro_f1(["a", "a"], ["a", "b"], ["a", "b", "c"]) == pytest.approx((2 / 3 + 0 + 0) / 3)


def test_top_k_accuracy_and_ece():
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    assert top_k_accuracy(probabilities, [0, 1], 1) == 0.5
    assert top_k_accuracy(probabilities, [0, 1], 2) == 1.0
    # confidences 0.7 (right) and 0.6 (wrong), in different bins: (|1-0.7| + |0-0.6|) / 2
    assert expected_calibration_error(probabilities, [0, 1], bins=10) == pytest.approx(0.45)


def test_fit_temperature_recovers_a_known_scale():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(size=(4000, 5)) * 2
    gold = [int(rng.choice(5, p=np.exp(r) / np.exp(r).sum())) for r in true_logits]
    assert fit_temperature(true_logits * 3, gold) == pytest.approx(3.0, rel=0.1)


def test_cause_coverage_uses_stems_and_mean_length():
    assert cause_coverage("Losing a dog is so hard", ["dogs", "died"]) == 0.5
    assert cause_coverage("anything", []) is None
    assert mean_length(["a b", "c d e f"]) == 3.0


def sample(label: str, index: int) -> DialogueSample:
    return DialogueSample(f"c{label}{index}", 1, ("x",), label, "r", "s")


def test_stratified_sampler_is_equal_per_emotion_and_seeded():
    pool = [sample(label, i) for label in ("sad", "proud", "lonely") for i in range(10)] + [sample("rare", 0)]
    drawn = stratified_sample(pool, 3, seed=7)
    counts = {label: sum(s.emotion == label for s in drawn) for label in ("sad", "proud", "lonely", "rare")}
    assert counts == {"sad": 3, "proud": 3, "lonely": 3, "rare": 1}
    assert drawn == stratified_sample(pool, 3, seed=7)
    assert drawn != stratified_sample(pool, 3, seed=8)


def test_nearest_rank_percentile_returns_a_measured_value():
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert nearest_rank_percentile(values, 0.5) == 3.0
    assert nearest_rank_percentile(values, 0.95) == 5.0
    assert nearest_rank_percentile(values, 0.0) == 1.0
    with pytest.raises(ValueError, match="at least one value"):
        nearest_rank_percentile([], 0.5)
