"""`hef eval-causes`: the baselines pick what they claim, and span agreement counts spans as well as words."""

from __future__ import annotations

from hef_graph.lab.evaluation.causes import pick_last_turn, pick_recency_random
from hef_graph.lab.sem_eval import CauseCase, reccon_cases, span_agreement
from hef_graph.sem.words import WordSpan, join_dialogue

TURNS = ["The movie tomorrow sounds great.", "Tickets sold out, sadly.", "Then we could watch movie reviews at home."]


def test_last_turn_takes_the_latest_turn_first_and_distinct_words():
    picked = pick_last_turn(None, [TURNS], ["sad"], 5)[0]
    assert [w.text for w in picked] == ["watch", "movie", "reviews", "home", "Tickets"]
    eight = pick_last_turn(None, [TURNS], ["sad"], 8)[0]
    assert [(w.text, w.turn) for w in eight[4:]] == [("Tickets", 1), ("sold", 1), ("sadly", 1), ("tomorrow", 0)]


def test_recency_random_is_seeded_distinct_and_prefers_recent_turns():
    first = pick_recency_random(seed=3)(None, [TURNS] * 200, ["sad"] * 200, 3)
    again = pick_recency_random(seed=3)(None, [TURNS] * 200, ["sad"] * 200, 3)
    assert first == again
    assert all(len({w.text.lower() for w in row}) == len(row) for row in first)
    by_turn = [sum(w.turn == t for row in first for w in row) for t in range(3)]
    assert by_turn[2] > by_turn[1] > by_turn[0]
    movie = [w for row in first for w in row if w.text == "movie"]
    assert movie and all(w.turn == 2 for w in movie)  # a repeated word is drawn at its latest occurrence


def test_span_agreement_counts_words_and_spans():
    words = join_dialogue(TURNS).words
    gold_span = (1, 0, 16)  # "Tickets sold out"
    gold = frozenset((w.turn, w.start) for w in words if w.turn == 1 and w.start < 16)
    case = CauseCase(TURNS, "sad", gold, (gold_span, (0, 4, 9)))
    picked = [WordSpan("Tickets", 1, 0, 7), WordSpan("home", 2, 37, 41)]
    report = span_agreement([case], [picked], ks=(1,))
    assert report["precision"] == 0.5 and abs(report["recall"] - 1 / 3) < 1e-9
    assert report["span_overlap"] == 0.5 and report["hit@1"] == 1.0


def test_every_reccon_test_target_is_a_case(data_dir):
    cases = reccon_cases(data_dir, "test")
    assert len(cases) == 1075 and all(case.gold and case.spans for case in cases)
