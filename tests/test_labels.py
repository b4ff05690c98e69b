import pytest

from hef_graph.labels import EMOTIONS, find_labels, parse_emotion, says_none


def test_there_are_32_lowercase_unique_labels():
    assert len(EMOTIONS) == 32 == len(set(EMOTIONS))
    assert all(label == label.lower() for label in EMOTIONS)


@pytest.mark.parametrize(
    ("answer", "allowed", "expected"),
    [
        ("sad", EMOTIONS, "sad"),
        ("SAD", EMOTIONS, "sad"),
        ("Sadness.", EMOTIONS, "sad"),
        ("I think the speaker is scared!", EMOTIONS, "afraid"),
        ("Emotion: Furious", EMOTIONS, "furious"),
        ("emotion：grateful", EMOTIONS, "grateful"),
        ("'Devastated'", EMOTIONS, "devastated"),
        ("The speaker feels lonely, maybe sad.", EMOTIONS, "lonely"),
        ("sad or lonely", ["lonely", "afraid"], "lonely"),
        ("happiness", EMOTIONS, "joyful"),
        ("Anxiety about the exam", EMOTIONS, "anxious"),
        ("proud", ["sad", "lonely"], None),
        ("", EMOTIONS, None),
        ("The speaker's emotional state can be described", EMOTIONS, None),
        ("1234 !!!", EMOTIONS, None),
        ("Emotion: banana, but really jealous", EMOTIONS, "jealous"),
    ],
)
def test_parse_emotion_handles_messy_answers(answer, allowed, expected):
    assert parse_emotion(answer, allowed) == expected


def test_find_labels_keeps_order_without_repeats():
    assert find_labels("Sad, then angry, then sadness again") == ["sad", "angry"]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [("none", True), ("None of these.", True), ("neither fits", True), ("sad", False), ("nonetheless sad", False)],
)
def test_says_none(answer, expected):
    assert says_none(answer) is expected
