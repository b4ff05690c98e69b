"""The SEM's lexical member and mixture: exact save/load, the mixing arithmetic, and the shipped mixture."""

import numpy as np
import pytest

from hef_graph.lab.fit_lexical import fit_lexical, tfidf_vectorizer
from hef_graph.lab.train_sem import likelihood_mixture
from hef_graph.sem.lexical import LexicalMember
from hef_graph.sem.mixture import Mixture, speaker_turns
from hef_graph.sem.probabilities import log_softmax

TEXTS = ["my dog died and I miss him", "I won the lottery today", "my cat died last week", "we won the big game",
         "the storm scared me", "that storm really scared us"]  # fmt: skip
LABELS = [0, 1, 0, 1, 3, 3]  # label 2 never occurs: its row must still exist


def test_speaker_turns_keep_the_last_turn_and_every_second_before_it():
    assert speaker_turns(["s1", "l1", "s2", "l2", "s3"]) == ["s1", "s2", "s3"]
    assert speaker_turns(["l0", "s1"]) == ["s1"]
    assert speaker_turns(["only"]) == ["only"]


def test_lexical_member_round_trips_through_its_files(tmp_path):
    member = fit_lexical(TEXTS * 3, LABELS * 3, num_labels=5, max_features=100)
    member.save(tmp_path)
    loaded = LexicalMember.load(tmp_path)
    assert loaded.vocabulary == member.vocabulary
    texts = ["my dog died", "we won", "the storm"]
    before, after = member.log_proba(texts), loaded.log_proba(texts)
    assert after.shape == (3, 5)
    np.testing.assert_allclose(np.exp(after).sum(1), 1.0, atol=1e-6)
    np.testing.assert_allclose(after, before, atol=0.02)  # int8 head: small rounding only
    assert after.argmax(1).tolist() == [0, 1, 3]
    assert np.exp(after[:, [2, 4]]).max() < 1e-6  # labels never seen in training stay impossible


def test_numpy_features_match_scikit_learns_vectorizer():
    """The runtime scores TF-IDF without scikit-learn; its features must be the fitted vectorizer's."""
    texts = [*TEXTS, "My DOG died... and I'm sad, sad, sad!", "naïve café storm", "a b", ""]
    vectorizer = tfidf_vectorizer(100)
    expected = vectorizer.fit(TEXTS * 3).transform(texts).toarray()
    member = LexicalMember(dict(vectorizer.vocabulary_), vectorizer.idf_, np.zeros((2, 1)), np.zeros(2))
    for row, text in enumerate(texts):
        dense = np.zeros(len(vectorizer.vocabulary_))
        indices, values = member.features(text)
        dense[indices] = values
        np.testing.assert_allclose(dense, expected[row], atol=1e-12)
    assert member.features("")[0].size == 0


def test_a_two_class_head_becomes_the_equivalent_softmax():
    member = fit_lexical(TEXTS[:4] * 3, LABELS[:4] * 3, num_labels=3, max_features=100)
    probabilities = np.exp(member.log_proba(["my dog died", "we won the game"]))
    assert probabilities.argmax(1).tolist() == [0, 1]
    assert probabilities[:, 2].max() < 1e-6


def test_mix_weights_the_parts_in_log_space(real_sem):
    from hef_graph.sem.classifier import EmotionClassifier

    two = EmotionClassifier(real_sem.members[:2])
    parts = {name: log_softmax(np.random.default_rng(i).normal(size=(2, 32))) for i, name in
             enumerate(("speaker", "lexical", "frozen"))}  # fmt: skip
    parts["members"] = log_softmax(np.random.default_rng(3).normal(size=(2, 2, 32)))
    first, second = parts["members"]
    np.testing.assert_allclose(two.mix(parts, Mixture()), (first + second) / 2)  # equal shares by default
    mixed = two.mix(parts, Mixture(speaker_view=0.25, lexical=0.5, frozen=0.2))
    expected = 0.375 * (first + second) + 0.25 * parts["speaker"] + 0.5 * parts["lexical"] + 0.2 * parts["frozen"]
    np.testing.assert_allclose(mixed, expected)
    mixed = two.mix(parts, Mixture(members=(0.0, 0.3), speaker_view=0.7, lexical=0.5))
    np.testing.assert_allclose(mixed, 0.3 * second + 0.7 * parts["speaker"] + 0.5 * parts["lexical"])


def test_the_likelihood_mixture_keeps_informative_parts_and_drops_noise():
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 32, size=2000)
    informative = log_softmax(rng.normal(size=(2000, 32)) + 3.0 * np.eye(32)[gold])
    noise = log_softmax(rng.normal(size=(2000, 32)))
    parts = {"members": np.stack([informative, noise]), "speaker": informative, "lexical": noise}
    mixture = likelihood_mixture(parts, gold.tolist())
    assert mixture.members[1] == 0.0 and mixture.lexical == 0.0  # pure noise earns no weight
    assert mixture.members[0] > 0 and mixture.speaker_view > 0
    assert mixture.members[0] + mixture.speaker_view == pytest.approx(1.0, abs=1e-3)  # the encoders' scale
    assert mixture.frozen == 0.0  # a part that is absent gets no weight


def test_the_shipped_sem_mixes_its_parts_and_its_logits_are_the_mix(real_sem):
    dialogues = [["I got the promotion!", "Congratulations!", "Thanks, I worked so hard for it."], ["I lost my keys."]]
    assert real_sem.lexical is not None and real_sem.mixture.lexical > 0
    assert real_sem.frozen is not None and real_sem.mixture.frozen > 0
    parts = real_sem.parts(dialogues)
    assert {"members", "lexical", "frozen"} <= set(parts)
    assert parts["members"].shape == (len(real_sem.members), 2, 32)
    np.testing.assert_allclose(real_sem.logits(dialogues), real_sem.mix(parts), atol=1e-4)
    analysis = real_sem.analyze(dialogues, n=3)  # the attribution pass gives the same distribution
    np.testing.assert_allclose(
        [list(a.probabilities.values()) for a in analysis], real_sem.predict_proba(dialogues), atol=1e-3
    )


def test_a_weight_without_its_member_is_refused(real_sem):
    from hef_graph.sem.classifier import EmotionClassifier

    with pytest.raises(ValueError, match="needs the lexical member"):
        EmotionClassifier(real_sem.members, mixture=Mixture(lexical=0.5))
    with pytest.raises(ValueError, match="needs the frozen member"):
        EmotionClassifier(real_sem.members, mixture=Mixture(frozen=0.5))
    with pytest.raises(ValueError, match="weighs 3 encoders but the SEM has 2"):
        EmotionClassifier(real_sem.members[:2], mixture=Mixture(members=(0.2, 0.3, 0.5)))
    with pytest.raises(ValueError, match="cause_recency must be in"):
        EmotionClassifier(real_sem.members, cause_recency=0)


def test_recency_weighs_cause_words_toward_the_latest_turns(real_sem):
    from hef_graph.sem.classifier import EmotionClassifier

    dialogue = ["My dog died last week.", "I am so sorry.", "The funeral for my grandmother is today."]
    flat = EmotionClassifier(real_sem.members, cause_recency=1.0).analyze([dialogue], n=10, targets=["sad"])[0]
    recent = EmotionClassifier(real_sem.members, cause_recency=0.1).analyze([dialogue], n=10, targets=["sad"])[0]
    last_turn_share = [sum(c.turn == 2 for c in a.causes[:3]) for a in (flat, recent)]
    assert last_turn_share[1] >= last_turn_share[0]
    assert recent.causes[0].turn == 2
