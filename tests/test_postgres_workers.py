"""Two worker processes on one Postgres, the README's own-process deployment, with the real shipped models.

Each worker (tests/postgres_worker.py) builds the graph on ``checkpointer_from_url`` and ``postgres_store`` of
one fresh database. The parent sends turns in rounds: in each round both workers answer the same person at
once, each on its own thread, and the next round starts when both have answered. So a person's turns
alternate between the processes, the writes really are concurrent, and by the next round each process's
memories are in the store for the other to recall. A second test starts processes at the same moment on a fresh
database: they must create its tables once between them, not fail on each other's.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit, urlunsplit

import pytest
from langchain_core.messages import AIMessage, HumanMessage

URL = os.environ.get("HEF_TEST_POSTGRES_URL", "")
NO_POSTGRES = "no Postgres server: set HEF_TEST_POSTGRES_URL (.ci/run starts one on loopback)"
ROOT = Path(__file__).resolve().parents[1]
WORKER = "tests.postgres_worker"
WORKERS = ("A", "B")
PEOPLE = ("alice", "bob")
ROUNDS = 20
TURN_TIMEOUT_S = 120.0
"""The longest one round may take: the first loads the models (about 20 s on 2 cores), later ones take seconds."""

WHEN = ("on Monday", "on Tuesday", "on Friday", "tomorrow", "next week", "this weekend", "after lunch", "at dawn",
        "tonight", "in the rain")  # fmt: skip
PLACES = ("every morning", "each evening", "the garden", "the sofa", "my walk to work", "the kitchen", "the hallway",
          "my weekend", "bedtime", "the park")  # fmt: skip
FEELINGS = {"A": "my hands shake when I think of it", "B": "I cannot stop picturing myself failing"}
MISSING = {"A": "I keep looking for him", "B": "nobody greets me at the door"}

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.subprocess,
    pytest.mark.skipif(not URL, reason=NO_POSTGRES),
]


def text_of(person: str, worker: str, number: int) -> str:
    """A person's ``number``-th message on ``worker``'s thread: one topic per person, every text distinct."""
    if person == "alice":
        return f"My driving test is {WHEN[number]} and {FEELINGS[worker]}"
    return f"Since my dog died, {PLACES[number]} feels empty and {MISSING[worker]}"


def thread_of(worker: str, person: str) -> str:
    return f"{worker}-{person}"


@dataclass
class Worker:
    """One worker process, its stderr log, and the turns it was sent and answered."""

    name: str
    process: subprocess.Popen[str]
    log: IO[str]
    sent: list[dict] = field(default_factory=list)
    answers: list[dict] = field(default_factory=list)

    def send(self, turn: dict) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(turn) + "\n")
        self.process.stdin.flush()
        self.sent.append(turn)

    def receive(self) -> None:
        """Wait for the answer to the last turn sent (a dead or stuck worker fails with its log)."""
        stdout = self.process.stdout
        assert stdout is not None
        ready, _, _ = select.select([stdout], [], [], TURN_TIMEOUT_S)
        line = stdout.readline() if ready else ""
        if not line:
            self.log.flush()
            tail = Path(self.log.name).read_text()[-3000:]
            pytest.fail(f"worker {self.name} gave no answer to {self.sent[-1]} in {TURN_TIMEOUT_S} s:\n{tail}")
        self.answers.append(json.loads(line))


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh database on the test server, dropped afterwards: both workers set its tables up at once."""
    import psycopg

    name = f"hef_workers_{uuid.uuid4().hex[:12]}"
    with closing(psycopg.connect(URL, autocommit=True)) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield urlunsplit(urlsplit(URL)._replace(path=f"/{name}"))
    with closing(psycopg.connect(URL, autocommit=True)) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def workers(database: str, tmp_path: Path) -> Iterator[dict[str, Worker]]:
    started = {}
    for name in WORKERS:
        log = (tmp_path / f"worker-{name}.log").open("w")
        process = subprocess.Popen([sys.executable, "-m", WORKER, database], cwd=ROOT, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=log, text=True)  # fmt: skip
        started[name] = Worker(name, process, log)
    yield started
    for worker in started.values():
        assert worker.process.stdin is not None
        worker.process.stdin.close()
        try:
            worker.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.process.kill()
        worker.log.close()


SET_UP = """
import os, sys, time
from pathlib import Path
from hef_graph.memory import postgres_store
from hef_graph.persistence import checkpointer_from_url
url, barrier, count = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
(barrier / str(os.getpid())).touch()
while len(list(barrier.iterdir())) < count:  # every process starts setting up at the same moment
    time.sleep(0.01)
checkpointer_from_url(url)
postgres_store(url)
"""


def test_processes_started_together_set_up_a_fresh_database(database, tmp_path):
    command = [sys.executable, "-c", SET_UP, database, str(tmp_path), str(len(WORKERS))]
    children = [subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True) for _ in WORKERS]
    errors = [child.communicate(timeout=180)[1] for child in children]
    assert [child.returncode for child in children] == [0] * len(WORKERS), "\n".join(errors)[-3000:]


def run_rounds(workers: dict[str, Worker]) -> None:
    """Each round: both workers take a turn of the same person at once; then both answers are awaited."""
    for number in range(ROUNDS):
        person = PEOPLE[number % len(PEOPLE)]
        for worker in workers.values():
            text = text_of(person, worker.name, number // len(PEOPLE))
            worker.send({"user": person, "thread": thread_of(worker.name, person), "text": text})
        for worker in workers.values():
            worker.receive()


def saved_messages(url: str, thread: str) -> list:
    from hef_graph.persistence import checkpointer_from_url

    saved = checkpointer_from_url(url).get_tuple({"configurable": {"thread_id": thread}})
    assert saved is not None, f"thread {thread} was never saved"
    return saved.checkpoint["channel_values"]["messages"]


def test_two_processes_save_every_turn_once_and_recall_each_other(workers, database):
    from hef_graph.memory import all_items, postgres_store, user_namespace

    run_rounds(workers)
    sent = [turn for worker in workers.values() for turn in worker.sent]
    answers = {worker.name: worker.answers for worker in workers.values()}
    assert len(sent) == len(WORKERS) * ROUNDS
    assert len({answer["pid"] for worker in answers.values() for answer in worker}) == len(WORKERS)
    assert all(answer["remembered"] in (None, answer["thread"]) for worker in answers.values() for answer in worker)

    # the checkpointer: every thread holds its turns in order, each once, each answered once
    all_human = []
    for worker in workers.values():
        for person in PEOPLE:
            thread = thread_of(worker.name, person)
            messages = saved_messages(database, thread)
            kinds = [type(message) for message in messages]
            assert kinds == [HumanMessage, AIMessage] * (ROUNDS // len(PEOPLE)), thread
            human = [message.content for message in messages if isinstance(message, HumanMessage)]
            assert human == [turn["text"] for turn in worker.sent if turn["thread"] == thread]
            assert len({message.id for message in messages}) == len(messages)
            all_human += human
    texts = [turn["text"] for turn in sent]
    assert len(set(texts)) == len(texts)  # every turn's text is its own, so equal counts mean each saved once
    assert Counter(all_human) == Counter(texts)

    # the store: one item per remembered turn, under its person and thread, none lost and none doubled
    store = postgres_store(database)
    for person in PEOPLE:
        remembered = Counter(
            answer["remembered"] for worker in answers.values() for answer in worker
            if answer["thread"].endswith(person) and answer["remembered"]
        )  # fmt: skip
        items = all_items(store, user_namespace(person))
        assert Counter(item.value["thread_id"] for item in items) == remembered
        assert sum(remembered.values()) >= ROUNDS // 2, f"too few of {person}'s turns were remembered: {remembered}"

    # memory across processes: each recalls what the other remembered, of the same person only
    for name, worker_answers in answers.items():
        (other,) = set(WORKERS) - {name}
        for answer in worker_answers:
            person = answer["thread"].split("-", 1)[1]
            assert set(answer["recalled"]) <= {thread_of(other, person)}, answer
        recalling = [answer for answer in worker_answers if answer["recalled"]]
        assert len(recalling) >= ROUNDS // 2, f"worker {name} recalled the other's memories in {len(recalling)} turns"
