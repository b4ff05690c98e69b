"""Reply cleaning, and the early stop it allows: once a reply is settled, more text cannot change it."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from hef_graph.replies import clean_reply, reply_is_settled

PIECES = ["I", "am", "so", "sorry", "Mr", ".", "!", "?", " ", " ", "\n", '"', ")", "Speaker:", "Note", "Notebook",
          "Listener: ", "the speaker", "e.g", "3.5"]  # fmt: skip


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40))
def test_a_settled_prefix_cleans_to_what_the_whole_text_cleans_to(pieces):
    text = "".join(pieces)
    for end in range(len(text) + 1):
        if reply_is_settled(text[:end]):
            assert clean_reply(text[:end]) == clean_reply(text), (text[:end], text)
            break


def test_on_many_random_texts_no_settled_prefix_changes_the_reply():
    rng = random.Random(0)
    settled = 0
    for _ in range(20_000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 40)))
        end = next((end for end in range(len(text) + 1) if reply_is_settled(text[:end])), None)
        if end is not None:
            settled += 1
            assert clean_reply(text[:end]) == clean_reply(text), (text[:end], text)
    assert settled > 1000  # the check ran on many settled prefixes


def test_settled_after_two_whole_sentences_and_the_start_of_a_third():
    assert not reply_is_settled("I am sorry. That is hard")
    assert not reply_is_settled("I am sorry. That is hard.")  # the second sentence may still go on ("hard.ly")
    assert reply_is_settled("I am sorry. That is hard. ")
    assert reply_is_settled("I am sorry. That is hard. And")
    assert reply_is_settled("One. Two. Three.", max_sentences=2) and not reply_is_settled("One. Two.", 3)
