"""The console's routes and backends with fake models: turns, faults, the inbox, memories, sign-in, rating."""

import asyncio
import json
import re
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from starlette.testclient import TestClient

from hef_graph.auth.tokens import SignedTokens
from hef_graph.console.app import build_app
from hef_graph.console.gate import TOKEN_COOKIE, Gate
from hef_graph.console.local import ConsoleModels, LocalBackend
from hef_graph.console.packets import BadPacket, parse_packet, ranking_line, ranks_of
from hef_graph.console.settings import ConsoleSettings
from tests.conftest import ScriptedSEM, ScriptedTagger, WordEncoder, fake_llm

REPLY = "Oh no, that is so sad about your cat."
SECRET = "console-test-secret-" + "y" * 32


def make_client(tmp_path: Path, llm=None, gate: Gate | None = None, packets: Path | None = None) -> TestClient:
    settings = ConsoleSettings(data_dir=tmp_path / "data", packets=packets, warm=False, inbox_poll_s=0.05,
                               max_message_chars=200)  # fmt: skip
    models = ConsoleModels(llm=llm or fake_llm(REPLY), sem=ScriptedSEM(), cause_tagger=ScriptedTagger(),
                           memory_encoder=WordEncoder())  # fmt: skip
    backend = LocalBackend(settings, models)
    client = TestClient(build_app(settings, gate or Gate(None), backend))
    client.backend = backend  # type: ignore[attr-defined]
    return client


def events(response) -> list[tuple[str, dict]]:
    found, name = [], None
    for line in response.iter_lines():
        if line.startswith("event:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and name:
            found.append((name, json.loads(line.split(":", 1)[1])))
            name = None
    return found


def send(client: TestClient, text: str, thread: str | None = None, version: str = "") -> list[tuple[str, dict]]:
    with client.stream("POST", "/api/turns", json={"thread_id": thread, "text": text, "version": version}) as response:
        assert response.status_code == 200, response.read()
        return events(response)


def status(client: TestClient, thread: str) -> dict:
    return client.get(f"/api/threads/{thread}/status").json()


@pytest.fixture
def client(tmp_path):
    with make_client(tmp_path) as client:
        yield client


def test_a_turn_streams_its_reply_then_the_page_shows_it_with_its_trace(client):
    streamed = send(client, "My cat died this morning.")
    kinds = [kind for kind, _ in streamed]
    assert kinds[0] == "thread" and kinds[-1] == "done" and "step" in kinds
    assert "".join(data["text"] for kind, data in streamed if kind == "token") == REPLY
    thread = streamed[0][1]["thread_id"]
    page = client.get(f"/threads/{thread}").text
    assert REPLY in page and "My cat died this morning." in page
    assert "SEM distribution (top-k marked)" in page and "Per-node timing" in page and "★ top-k" in page
    assert "Authentication is off" in page
    assert f'href="/threads/{thread}"' in client.get("/").text  # the thread list


@pytest.mark.parametrize(("text", "message"), [("   ", "Write a message first"), ("x" * 201, "the limit is 200")])
def test_an_empty_or_too_long_message_is_refused_and_nothing_is_stored(client, text, message):
    response = client.post("/api/turns", json={"thread_id": None, "text": text, "version": ""})
    assert response.status_code == 422 and message in response.json()["error"]
    assert "No conversation yet" in client.get("/").text


def test_a_stale_page_is_told_to_reload_and_the_thread_is_unchanged(client):
    thread = send(client, "My cat died this morning.")[0][1]["thread_id"]
    current = status(client, thread)["version"]
    response = client.post("/api/turns", json={"thread_id": thread, "text": "And today?", "version": "old"})
    assert response.status_code == 409 and "changed in another window" in response.json()["error"]
    assert status(client, thread)["version"] == current
    assert [kind for kind, _ in send(client, "And today?", thread, current)][-1] == "done"


def test_an_unknown_thread_is_not_found(client):
    assert client.get("/api/threads/nope/status").status_code == 404
    assert "no thread" in client.get("/threads/nope").text


def test_a_crisis_turn_waits_in_the_inbox_and_one_reviewers_edit_reaches_the_thread(client):
    thread = send(client, "I want to end my life.")[0][1]["thread_id"]
    assert status(client, thread)["waiting"] == "crisis"
    inbox = client.get("/inbox").text
    assert "crisis" in inbox and "I want to end my life." in inbox
    (pause,) = asyncio.run(client.backend.inbox(Gate(None).visitor(None)))
    answer = {"thread_id": thread, "pause_id": pause.pause_id, "action": "edit", "reply": "Sam here. I'm with you."}
    assert client.post("/api/inbox/resume", json=answer).status_code == 200
    again = client.post("/api/inbox/resume", json=answer | {"reply": "A second answer."})
    assert again.status_code == 409 and "already answered" in again.json()["error"]
    page = client.get(f"/threads/{thread}").text
    assert "Sam here. I&#39;m with you." in page and "A second answer." not in page
    assert status(client, thread)["waiting"] is None


class DownChatModel(FakeListChatModel):
    """A fake chat model whose server is down (every call and stream fails) until ``down`` is cleared."""

    down: bool = True

    def _call(self, *args, **kwargs):  # type: ignore[override]
        if self.down:
            raise ConnectionError("backend down")
        return super()._call(*args, **kwargs)

    def _stream(self, *args, **kwargs):  # type: ignore[override]
        if self.down:
            raise ConnectionError("backend down")
        yield from super()._stream(*args, **kwargs)


def test_the_llm_down_keeps_the_message_and_a_retry_answers_it(tmp_path):
    flaky = DownChatModel(responses=[REPLY])
    with make_client(tmp_path, llm=flaky) as client:
        streamed = send(client, "I got the job at the bakery!")
        thread = streamed[0][1]["thread_id"]
        (error,) = [data for kind, data in streamed if kind == "error"]
        assert "not answering" in error["message"] and error["retry"]
        view = client.get(f"/api/threads/{thread}/view").text
        assert "I got the job at the bakery!" in view and 'id="retry"' in view
        flaky.down = False
        retried = client.post(f"/api/threads/{thread}/retry", json={"version": status(client, thread)["version"]})
        assert retried.status_code == 200
        page = client.get(f"/threads/{thread}").text
        assert REPLY in page and page.count('<p class="bubble person">I got the job at the bakery!</p>') == 1


def test_a_person_lists_and_forgets_their_memories(client):
    send(client, "My cat died this morning.")
    page = client.get("/memories").text
    assert "sad" in page and "Forget" in page
    assert client.post("/api/memories/forget", json={"key": None}).json()["forgotten"] == 1
    assert "HEF remembers nothing about you" in client.get("/memories").text


def test_with_tokens_only_a_reviewer_sees_the_inbox(tmp_path):
    tokens = SignedTokens(SECRET)
    with make_client(tmp_path, gate=Gate(tokens)) as client:
        assert client.get("/inbox", follow_redirects=False).status_code == 303  # to the sign-in page
        assert client.get("/api/threads/x/status").status_code == 401
        client.cookies.set(TOKEN_COOKIE, tokens.issue("ana"))
        assert client.get("/inbox").status_code == 403
        assert "Signed in as" in client.get("/").text and "ana" in client.get("/").text
        client.cookies.set(TOKEN_COOKIE, tokens.issue("sam", "reviewer"))
        assert "No turn is waiting" in client.get("/inbox").text
        assert "reviewers answer hand-offs" in client.get("/").text


def test_a_link_with_a_token_signs_in_and_a_bad_token_is_told_why(tmp_path):
    tokens = SignedTokens(SECRET)
    with make_client(tmp_path, gate=Gate(tokens)) as client:
        refused = client.get("/login?token=nonsense&next=/inbox")
        assert "not valid" in refused.text
        signed = client.get(f"/login?token={tokens.issue('ana')}&next=/memories")
        assert signed.url.path == "/memories" and "ana" in signed.text


PACKET = """## Dialogue 1

Speaker: I lost my keys again.
Listener: Oh no.
Speaker: Third time this week.

Replies:
A: That sounds frustrating.
B: Keys are small.

## Dialogue 2

Speaker: I passed my exam!

Replies:
A: Well done!
B: Exams are hard.
C: Nice.
"""


def test_a_packet_reads_as_rate_export_writes_it_and_a_bad_one_says_where():
    dialogues = parse_packet(PACKET, "p")
    assert [d.number for d in dialogues] == [1, 2] and dialogues[1].replies[2] == ("C", "Nice.")
    assert dialogues[0].turns[1] == ("Listener", "Oh no.")
    with pytest.raises(BadPacket, match="line 1"):
        parse_packet("hello\n", "p")
    with pytest.raises(BadPacket, match="at least two replies"):
        parse_packet("## Dialogue 1\n\nSpeaker: hi\n\nReplies:\nA: one\n", "p")


def test_a_ranking_line_round_trips_with_ties():
    assert ranking_line({"A": 2, "B": 1, "C": 2}) == "B > A = C"
    assert ranks_of("B > A = C") == {"B": 1, "A": 2, "C": 2}


def test_raters_rank_a_packet_that_rate_score_reads_and_never_see_the_key(tmp_path):
    from hef_graph.lab.evaluation.rating import read_key, read_ranking

    packet = tmp_path / "packets" / "p1"
    packet.mkdir(parents=True)
    (packet / "packet.md").write_text(PACKET)
    key = {"systems": ["hef", "llm", "llm_framed"], "seed": 0, "dialogues": [
        {"number": 1, "sample_id": "s1", "letters": {"A": "hef", "B": "llm"}},
        {"number": 2, "sample_id": "s2", "letters": {"A": "llm", "B": "hef", "C": "llm_framed"}}]}  # fmt: skip
    (packet / "key.json").write_text(json.dumps(key))
    with make_client(tmp_path, packets=tmp_path / "packets") as client:
        assert "p1" in client.get("/rate").text
        assert "Your name as a rater" in client.get("/rate/p1").text
        assert client.get("/rate/p1?rater=ana").status_code == 200  # the cookie keeps the name
        data = client.get("/api/rate/p1").json()
        assert "hef" not in json.dumps(data) and data["ranks"] == {}
        refused = client.post("/api/rate/p1/1", json={"ranks": {"A": 1}})
        assert refused.status_code == 422 and "Rank every reply" in refused.json()["error"]
        assert client.post("/api/rate/p1/1", json={"ranks": {"A": 1, "B": 1}}).json() == {"ranked": 1}
        assert client.get("/api/rate/p1").json()["ranks"] == {"1": {"A": 1, "B": 1}}
        client.post("/api/rate/p1/2", json={"ranks": {"A": 2, "B": 1, "C": 3}})
        for path in ("/rate/p1/key.json", "/static/../packets/p1/key.json", "/rate/..%2Fp1"):
            assert "llm_framed" not in client.get(path).text
        assert client.get("/rate/nope").status_code == 404
    ranks = read_ranking(packet / "rankings" / "ana.txt", read_key(packet / "key.json"))
    assert ranks == {1: {"A": 0, "B": 0}, 2: {"B": 0, "A": 1, "C": 2}}


def test_a_malformed_packet_gets_a_clear_page(tmp_path):
    (tmp_path / "packets" / "bad").mkdir(parents=True)
    (tmp_path / "packets" / "bad" / "packet.md").write_text("# notes\n")
    with make_client(tmp_path, packets=tmp_path / "packets") as client:
        response = client.get("/rate/bad?rater=ana")
        assert response.status_code == 422 and "not a hef rate-export packet" in response.text


def test_no_page_names_another_machine(client):
    thread = send(client, "My cat died this morning.")[0][1]["thread_id"]
    for path in ("/", f"/threads/{thread}", "/memories", "/inbox", "/rate", "/login"):
        page = client.get(path).text
        assert OUTSIDE.findall(page) == [], path
    for asset in ("console.css", "trace.css", "chat.js", "inbox.js", "rate.js", "common.js", "memories.js"):
        assert OUTSIDE.findall(client.get(f"/static/{asset}").text) == [], asset


OUTSIDE = re.compile(
    r"""(?:src|href|action)\s*=\s*["'](?![/#?]|data:)"""  # a source, link or form target off this origin
    r"""|url\(\s*["']?(?!data:|/)|(?:fetch|EventSource)\(\s*["'`]https?:"""  # a style's or a script's request
)
