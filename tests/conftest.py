"""Shared fixtures: fakes for graph-logic tests, the real shipped models for end-to-end tests.

Two tiers. A test is an *integration* test when it carries one of INTEGRATION_MARKERS (real models, data,
servers, browsers, wheels) or uses a real-model fixture; every other test is a *unit* test, and a unit test
that loads real weights fails, so the unit tier (`make test-fast`, `-m "not integration"`) stays fast.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from hef_graph.context import Context
from hef_graph.labels import EMOTIONS
from hef_graph.llm.runtime import Generation, LLMRuntime
from hef_graph.sem.words import join_dialogue

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Plumbing tests (CLI, server, examples, persistence) run on the tiny SmolLM2; tests/test_default_llm.py runs
# the default LLM (Qwen2.5-Coder-1.5B through llama.cpp) end to end.
os.environ["HEF_LLM"] = "smollm2"

DATA_DIR = Path(os.environ.get("HEF_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))


class ScriptedSEM:
    """A fake SEM for graph-logic tests: a fixed ranking, cause words = the dialogue's longest words."""

    def __init__(self, ranking: Sequence[str] = ("sad", "lonely", "devastated")) -> None:
        self.ranking = list(ranking)
        self.cause_calls: list[str | None] = []

    @property
    def labels(self) -> tuple[str, ...]:
        return EMOTIONS

    def predict_proba(self, dialogues: Sequence[Sequence[str]]) -> np.ndarray:
        row = np.full(len(EMOTIONS), 0.1 / (len(EMOTIONS) - len(self.ranking)))
        for rank, label in enumerate(self.ranking):
            row[EMOTIONS.index(label)] = (
                0.9 * (0.5 ** (rank + 1)) / sum(0.5 ** (r + 1) for r in range(len(self.ranking)))
            )
        return np.tile(row / row.sum(), (len(dialogues), 1))

    def cause_words(self, dialogue: Sequence[str], emotion: str | None = None, n: int = 5) -> list[tuple[str, float]]:
        self.cause_calls.append(emotion)
        words = sorted({w.strip(".,!?") for turn in dialogue for w in turn.split()}, key=len, reverse=True)
        offset = 1 if emotion not in (None, self.ranking[0]) else 0  # a different label gives other words
        return [(w, 1.0 / (i + 1)) for i, w in enumerate(words[offset : offset + n])]


@dataclass(frozen=True)
class ScriptedWord:
    text: str
    turn: int
    start: int
    end: int
    score: float


class ScriptedTagger:
    """A fake cause tagger: the dialogue's words, longest first, shifted by one for any emotion but 'sad'."""

    def __init__(self, extra: str | None = None) -> None:
        self.calls: list[str] = []
        self.extra = extra  # a word that is not in the dialogue, which the graph must drop

    def tag(self, dialogue: Sequence[str], emotion: str, n: int = 5) -> list[ScriptedWord]:
        self.calls.append(emotion)
        words = sorted(join_dialogue(list(dialogue)).words, key=lambda w: -len(w.text))
        words = words[(emotion != "sad") :]
        found = [ScriptedWord(w.text, w.turn, w.start, w.end, 1.0 / (i + 1)) for i, w in enumerate(words[:n])]
        return ([ScriptedWord(self.extra, 0, 0, len(self.extra), 2.0)] if self.extra else []) + found


def ask_the_llm(**settings: object) -> Context:
    """A run context in which every scored judgement goes to the LLM (none settled by the SEM's margin alone)."""
    return Context(llm_log_ratio_cap=math.inf, **settings)  # type: ignore[arg-type]


def fake_llm(*answers: str) -> FakeListChatModel:
    """A chat model that answers with the given texts in order."""
    return FakeListChatModel(responses=list(answers))


class StartingRuntime(LLMRuntime):
    """A fake runtime that can be started with an opener (as llama.cpp can) and records each reply's caps."""

    capabilities = replace(LLMRuntime.capabilities, follows_notes=False, starts_replies=True)

    def __init__(self, *answers: str) -> None:
        super().__init__(fake_llm(*answers), "starting")
        self.caps: list[Generation] = []

    def generate(self, messages, caps, streamed=True, config=None):
        self.caps.append(caps)
        text = super().generate(messages, caps, streamed, config)
        return f"{caps.opener} {text}" if caps.opener else text


INTEGRATION_MARKERS = {"real", "data", "slow", "openai_server", "postgres", "browser", "server", "subprocess"}
REAL_MODEL_FIXTURES = {"real_sem", "real_llm", "real_tagger", "openai_server", "data_dir"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that needs real weights, data or outside programs as ``integration``."""
    for item in items:
        markers = {mark.name for mark in item.iter_markers()}
        if markers & INTEGRATION_MARKERS or REAL_MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def _unit_tests_load_no_weights(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a unit test, loading a real SEM, tagger, base encoder or LLM is an error that names the fix."""
    if request.node.get_closest_marker("integration"):
        return
    from hef_graph import deps
    from hef_graph.llm import loading
    from hef_graph.sem import cause_tagger, classifier, encoder

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a unit test loaded real weights: inject a fake, or mark the test `real`")

    monkeypatch.setattr(classifier.EmotionClassifier, "from_pretrained", refuse)
    monkeypatch.setattr(cause_tagger.CauseTagger, "from_pretrained", refuse)
    monkeypatch.setattr(encoder, "load_base_encoder", refuse)
    monkeypatch.setattr(cause_tagger.AutoModel, "from_pretrained", refuse)
    for builder in ("_local_chat_model", "embedded_model_dir", "embedded_gguf", "joined_gguf"):
        monkeypatch.setattr(loading, builder, refuse)
    for loader in ("load_sem", "load_cause_tagger", "load_llm"):  # also models already in the model cache
        monkeypatch.setattr(deps, loader, refuse)


@pytest.fixture
def scripted_sem() -> ScriptedSEM:
    return ScriptedSEM()


@pytest.fixture(scope="session")
def real_sem():
    from hef_graph import load_sem

    return load_sem()


@pytest.fixture(scope="session")
def real_tagger():
    from hef_graph import load_cause_tagger

    return load_cause_tagger()


@pytest.fixture(scope="session")
def real_llm():
    from hef_graph import load_llm

    return load_llm("smollm2")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA_DIR / "empathetic_dialogues" / "test.jsonl.gz").is_file():
        pytest.skip(f"EmpatheticDialogues not found under {DATA_DIR} (set HEF_DATA_DIR to ../shared/data)")
    return DATA_DIR


class FlakyChatModel(FakeListChatModel):
    """A fake chat model that raises (or stalls) on the calls listed in ``fail_on`` (0-based), else answers."""

    fail_on: set[int] = set()
    stall_s: float = 0.0
    calls: int = 0

    def _call(self, *args, **kwargs):  # type: ignore[override]
        call, self.calls = self.calls, self.calls + 1
        if call in self.fail_on:
            if self.stall_s:
                import time

                time.sleep(self.stall_s)
            else:
                raise ConnectionError(f"backend down (call {call})")
        return super()._call(*args, **kwargs)


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def openai_server(tmp_path_factory):
    """A real OpenAI-compatible server (llama-cpp-python) serving the embedded GGUF on a free loopback port.

    Skipped where llama-cpp-python[server] is not installed, except where HEF_REQUIRE_OPENAI_SERVER is
    set (CI sets it, so these tests cannot silently skip there).
    """
    import importlib.util
    import subprocess
    import sys
    import time
    import urllib.request

    if importlib.util.find_spec("llama_cpp") is None:
        reason = "llama-cpp-python[server] is not installed (`make test` installs it)"
        if os.environ.get("HEF_REQUIRE_OPENAI_SERVER"):
            pytest.fail(reason)
        pytest.skip(reason)
    from hef_graph.llm.loading import embedded_gguf

    port = free_port()
    log = (tmp_path_factory.mktemp("llama-server") / "server.log").open("w")
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_gguf()), "--host", "127.0.0.1",
               "--port", str(port), "--n_ctx", "4096", "--model_alias", "smollm2"]  # fmt: skip
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/models", timeout=2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the llama-cpp-python server did not start; see {log.name}")
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


class WordEncoder:
    """A fake phrase encoder for memory graph-logic tests: a phrase's words hashed into 384 dimensions.

    Phrases sharing words are similar (cosine = the share of words in common); phrases sharing none score 0.
    """

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        import zlib

        vectors = []
        for text in texts:
            row = np.zeros(384)
            for word in {w.strip(".,!?").lower() for w in text.split()} - {""}:
                row[zlib.crc32(word.encode()) % 384] += 1.0
            norm = float(np.linalg.norm(row))
            vectors.append((row / norm if norm else row).tolist())
        return vectors


def run_script(code: str, *args: str) -> str:
    """Run ``code`` in a fresh Python process from the repository root (a real restart) and return its stdout."""
    result = subprocess.run([sys.executable, "-c", code, *args], cwd=Path(__file__).resolve().parents[1],
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()
