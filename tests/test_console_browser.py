"""The console in headless Debian Chromium, against `hef console` running the real shipped SEM and tagger and the
tiny real LLM (SmolLM2): a streamed turn with its trace, the inbox, two reviewers on one pause, a rater."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hef_graph.auth.tokens import SignedTokens
from tests.browser import CHROMIUM, chromium, running_console

pytestmark = [
    pytest.mark.browser,
    pytest.mark.real,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)"),
]
SECRET = "console-browser-secret-" + "z" * 32
TOKENS = SignedTokens(SECRET)
SYSTEMS = ["hef", "llm", "llm_framed"]


def five_dialogue_packet(folder: Path) -> Path:
    """A packet exactly as `hef rate-export` writes it, from five dialogues' replies by three systems."""
    from hef_graph.lab.evaluation.rating import write_packet

    records = [{"sample_id": f"s{n}", "system": system, "context": [f"Something happened to me, number {n}."],
                "reply": f"Reply {n} by someone."} for n in range(1, 6) for system in SYSTEMS]  # fmt: skip
    write_packet(records, SYSTEMS, seed=3, folder=folder / "five")
    return folder / "five"


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    folder = tmp_path_factory.mktemp("console")
    packet = five_dialogue_packet(folder / "packets")
    args = ["--data-dir", str(folder / "data"), "--packets", str(folder / "packets"), "--llm", "smollm2"]
    env = {"HEF_AUTH_SECRET": SECRET, "HEF_LLM": "smollm2", "HEF_AUTH": ""}
    with running_console(folder / "console.log", *args, env=env) as url, chromium() as browser:
        yield url, browser, packet


def person(console, user: str, role: str = "person", page: str = "/"):
    url, browser, _packet = console
    tab = browser.new_context().new_page()
    tab.goto(f"{url}/login?token={TOKENS.issue(user, role)}&next={page}")
    return tab


def say(tab, text: str) -> None:
    tab.fill("#message", text)
    tab.press("#message", "Enter")


def test_a_chat_turn_streams_its_reply_and_shows_its_trace(console):
    tab = person(console, "ana")
    say(tab, "My dog died this morning. I keep expecting him at the door.")
    tab.wait_for_selector(".turn-row.pending .reply:not(:empty)", timeout=120_000)  # the first tokens, streamed
    trace = tab.wait_for_selector("details.trace[open] .turn", timeout=120_000)  # the finished turn's trace
    assert tab.evaluate("window.hefTimings.length") == 1
    text = trace.inner_text()
    assert "SEM distribution" in text and "Per-node timing" in text and "Stage decisions" in text
    assert len(trace.query_selector_all("tr.emotion-row")) == 32 and trace.query_selector_all("mark.cause")
    assert len(trace.query_selector_all("tr.emotion-row .bar.top")) == 3  # the top-k marked
    assert tab.inner_text(".turn-row .reply").strip()
    assert "/threads/" in tab.url and tab.query_selector("#thread-list li.current")


def test_a_crisis_turn_reaches_the_inbox_and_a_reviewers_edit_reaches_the_thread(console):
    reviewer = person(console, "sam", "reviewer", "/inbox")
    ana = person(console, "ana")
    say(ana, "I want to end my life.")
    ana.wait_for_selector("#waiting", timeout=60_000)
    card = reviewer.wait_for_selector(".pause:has-text('I want to end my life.')", timeout=30_000)  # no reload
    assert "crisis" in card.inner_text()
    card.query_selector(".reply-text").fill("Sam here, a real person. I'm with you right now.")
    card.query_selector("button[data-action=edit]").click()
    reviewer.wait_for_function("document.querySelector('.pause.answered .result')?.textContent === 'Sent.'")
    ana.wait_for_selector(".bubble.reply:has-text('Sam here, a real person.')", timeout=30_000)
    assert "answered by sam" in ana.inner_text("#turns")


def test_two_reviewers_answer_one_pause_one_is_sent_the_other_is_told(console):
    ana = person(console, "ana")
    say(ana, "I am going to kill myself tonight.")
    ana.wait_for_selector("#waiting", timeout=60_000)
    reviewers = [person(console, name, "reviewer", "/inbox") for name in ("sam", "kim")]
    cards = [r.wait_for_selector(".pause:has-text('kill myself tonight')", timeout=30_000) for r in reviewers]
    for card, words in zip(cards, ("First answer.", "Second answer."), strict=True):
        card.query_selector(".reply-text").fill(words)
    for card in cards:
        card.query_selector("button[data-action=edit]").click()
    for reviewer in reviewers:
        reviewer.wait_for_function("[...document.querySelectorAll('.pause .result')].some(r => r.textContent)")
    results = [card.query_selector(".result").inner_text() for card in cards]
    (told,) = [result for result in results if result != "Sent."]
    assert results.count("Sent.") == 1 and re.search("already answered|another reviewer", told, re.I), results
    ana.wait_for_selector(".bubble.reply:has-text('answer.')", timeout=30_000)
    sent = [b.inner_text() for b in ana.query_selector_all(".bubble.reply") if "answer." in b.inner_text()]
    assert len(sent) == 1  # never sent twice


def test_a_rater_ranks_five_dialogues_across_a_reload_and_rate_score_reads_the_file(console):
    _url, _browser, packet = console
    tab = person(console, "rater1", page="/rate/five")
    tab.wait_for_selector(".reply-card")
    assert not re.search("|".join(SYSTEMS), tab.content())  # no system name reaches the rater
    for _ in range(2):  # keyboard: pick a reply by its letter, rank it by a digit, Enter saves
        for letter, rank in (("a", "1"), ("b", "2"), ("c", "2")):
            tab.keyboard.press(letter)
            tab.keyboard.press(rank)
        tab.keyboard.press("Enter")
        tab.wait_for_selector("#progress:has-text('ranked')")
    tab.wait_for_selector("#progress:has-text('Dialogue 3 of 5 · 2 ranked')")
    tab.reload()
    tab.wait_for_selector("#progress:has-text('Dialogue 3 of 5 · 2 ranked')")
    tab.click("#back")  # and back: the saved ranking shows
    assert tab.get_attribute(".reply-card[data-letter=A] .rank[data-rank='1']", "aria-pressed") == "true"
    tab.keyboard.press("Enter")
    for number in (3, 4, 5):  # mouse
        tab.wait_for_selector(f"#progress:has-text('Dialogue {number} of 5')")
        for letter, rank in (("A", 3), ("B", 1), ("C", 2)):
            tab.click(f".reply-card[data-letter={letter}] .rank[data-rank='{rank}']")
        tab.click("#next")
    tab.wait_for_selector("#finished:not([hidden])")
    ranking = packet / "rankings" / "rater1.txt"
    command = ["rate-score", "--key", str(packet / "key.json"), str(ranking), "--out", str(packet / "scores.json")]
    result = subprocess.run([sys.executable, "-m", "hef_graph", *command], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    scores = json.loads((packet / "scores.json").read_text())
    assert scores["dialogues"] == 5 and scores["raters"] == ["rater1"]
    assert sum(scores["pairs"]["hef_vs_llm"]["majority"][o] for o in ("win", "tie", "loss")) == 5


def test_no_page_requests_anything_from_another_machine(console):
    url, browser, _packet = console
    requested: list[str] = []
    context = browser.new_context()
    context.on("request", lambda request: requested.append(request.url))
    tab = context.new_page()
    tab.goto(f"{url}/login?token={TOKENS.issue('ana')}&next=/")
    for page in ("/", "/memories", "/rate", "/rate/five"):
        tab.goto(url + page)
        tab.wait_for_load_state("networkidle")
    tab.goto(f"{url}/login?token={TOKENS.issue('sam', 'reviewer')}&next=/inbox")
    tab.wait_for_timeout(1500)
    outside = [address for address in requested if not address.startswith((url, "data:"))]
    assert requested and outside == []
