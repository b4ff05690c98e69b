"""Property tests (bounded for CI): the parser, input validation and the SEM's tokenisation edges."""

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hef_graph import EMOTIONS, InvalidInput, build_graph
from hef_graph.dialogue import clean_text, format_dialogue
from hef_graph.labels import parse_emotion
from hef_graph.sem.words import join_dialogue
from tests.conftest import ScriptedSEM, ScriptedTagger, fake_llm

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.text(max_size=200), st.lists(st.sampled_from(EMOTIONS), min_size=1, max_size=32, unique=True))
def test_parser_only_ever_returns_an_allowed_label(text, allowed):
    assert parse_emotion(text, allowed) in (*allowed, None)


@FAST
@given(st.text(max_size=300))
def test_clean_text_is_safe_for_json_and_tokenizers(text):
    cleaned = clean_text(text)
    cleaned.encode("utf-8")  # no lone surrogates left
    assert not any(ord(c) < 32 and c not in "\n\t" for c in cleaned)


@FAST
@given(st.lists(st.text(max_size=80), min_size=1, max_size=8))
def test_word_spans_point_into_their_turns(turns):
    joined = join_dialogue(turns)
    for word in joined.words:
        assert turns[word.turn][word.start : word.end] == word.text
    assert format_dialogue(turns).count("Speaker:") >= 1


GRAPH = build_graph(llm=fake_llm("sad", "ok"), sem=ScriptedSEM(), cause_tagger=ScriptedTagger())


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.none(), st.integers(), st.text(max_size=20), st.lists(st.integers(), max_size=3),
                 st.lists(st.tuples(st.sampled_from(["robot", "user", "assistant", ""]), st.text(max_size=20)),
                          max_size=3)))  # fmt: skip
@example(messages=[("user", "")])
def test_any_malformed_payload_is_invalid_input_or_a_turn(messages):
    try:
        out = GRAPH.invoke({"messages": messages})
    except InvalidInput:
        return
    if out["dialogue"][-1].strip():
        assert out["emotion"] in EMOTIONS
    else:  # an empty turn is answered at the input check, before any model
        assert out["emotion"] is None and out["reply"].startswith("I'm here and listening")


@pytest.mark.parametrize("text", ["", " ", "\u200b", "a" * 5000, "[SEP] [CLS] [PAD]", "🙂" * 50, "x\ud800y"])
def test_sem_tokenisation_edges(real_sem, text):
    cleaned = clean_text(text)
    analysis = real_sem.analyze([[cleaned]], n=3)[0]
    assert analysis.target in EMOTIONS and abs(sum(analysis.probabilities.values()) - 1) < 1e-4
    assert all(cleaned[c.start : c.end] == c.word for c in analysis.causes)
