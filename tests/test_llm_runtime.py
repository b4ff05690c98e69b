"""The LLM boundary without weights: retries, transient faults, letter scoring, the model cache, routing, logging."""

import importlib
import logging
import math
import pkgutil
import threading
import time
from collections import OrderedDict

import pytest

import hef_graph
from hef_graph import Context, as_runtime, build_graph
from hef_graph.errors import LLMUnavailable
from hef_graph.judging import JudgementRequest
from hef_graph.llm import CallPolicy, Capabilities, LLMRuntime
from hef_graph.llm.letters import lettered_options, letters_from_top_logprobs
from hef_graph.model_cache import ModelCache
from tests.conftest import FlakyChatModel, ScriptedSEM, ScriptedTagger, fake_llm


class Status(Exception):
    def __init__(self, status_code: int) -> None:
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code


@pytest.mark.parametrize(
    ("error", "transient"),
    [(TimeoutError(), True), (ConnectionError(), True), (Status(429), True), (Status(503), True),
     (Status(400), False), (Status(404), False), (ValueError("bug"), False), (KeyError("x"), False)],
)  # fmt: skip
def test_only_faults_that_can_pass_are_transient(error, transient):
    assert as_runtime(fake_llm("x")).is_transient(error) is transient


def test_a_programming_error_surfaces_at_once_and_a_transient_one_is_retried():
    runtime, calls = as_runtime(fake_llm("x")), []

    def broken() -> str:
        calls.append(1)
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        runtime.call(broken, CallPolicy(attempts=3), "judgement")
    assert len(calls) == 1

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 4:
            raise ConnectionError("reset")
        return "ok"

    assert runtime.call(flaky, CallPolicy(attempts=3), "judgement") == "ok" and len(calls) == 4
    with pytest.raises(LLMUnavailable, match=r"judgement failed: FakeListChatModel gave no answer after 2 attempts"):
        runtime.call(lambda: (_ for _ in ()).throw(ConnectionError("down")), CallPolicy(attempts=2), "judgement")


def test_a_judgement_that_keeps_failing_is_recorded_not_raised():
    runtime = as_runtime(FlakyChatModel(responses=["sad"], fail_on={0, 1}))
    request = JudgementRequest(stage="primary", dialogue="Speaker: hi", prior={"sad": 0.6, "none": 0.4})
    judgement = runtime.judge(request, CallPolicy(attempts=2))
    assert judgement["method"] == "failed" and judgement["choice"] is None
    assert "ConnectionError" in judgement["error"] and judgement["candidates"] == ["sad", "none"]


def test_letters_sum_their_spellings_and_an_unreturned_letter_gets_an_upper_bound():
    top = [{"token": "A", "logprob": math.log(0.5)}, {"token": " A", "logprob": math.log(0.1)},
           {"token": "B.", "logprob": math.log(0.2)}, {"token": "The", "logprob": math.log(0.15)}]  # fmt: skip
    scores = letters_from_top_logprobs(top, ["A", "B", "C"])
    assert math.exp(scores["A"]) == pytest.approx(0.6) and math.exp(scores["B"]) == pytest.approx(0.2)
    assert math.exp(scores["C"]) == pytest.approx(0.05)  # no more than the 5% left unreturned (< 15%)


def test_past_26_candidates_the_least_likely_under_the_sem_are_left_out():
    candidates = [f"label{i}" for i in range(29)]
    prior = {c: 1.0 / (i + 1) for i, c in enumerate(candidates)}
    options = lettered_options(candidates, prior)
    assert list(options) == [chr(ord("A") + i) for i in range(26)]
    assert list(options.values()) == candidates[:26]


def test_the_model_cache_is_keyed_bounded_clearable_and_builds_once():
    cache, builds = ModelCache(max_entries=2), []

    def build(name: str):
        def make() -> str:
            builds.append(name)
            time.sleep(0.05)
            return name

        return make

    threads = [threading.Thread(target=cache.get, args=("a", build("a"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert builds == ["a"]
    cache.get("b", build("b"))
    cache.get("a", build("a"))  # a is now the most recent
    cache.get("c", build("c"))
    assert cache.keys() == ["a", "c"]  # b was evicted
    cache.clear()
    assert cache.keys() == [] and cache.get("a", build("a")) == "a" and builds.count("a") == 2
    with pytest.raises(ValueError, match="max_entries"):
        ModelCache(0)


def test_no_module_keeps_a_mutable_registry(monkeypatch):
    """Models, caches and scorers live in objects or the explicit ModelCache, never in module dicts or lists."""
    monkeypatch.setenv("HEF_AUTH_SECRET", "s" * 48)  # hef_graph.auth.server reads its deployment's setting on import
    offenders = []
    for info in pkgutil.walk_packages(hef_graph.__path__, "hef_graph."):
        if info.name.endswith("__main__") or info.name.startswith("hef_graph.lab"):
            continue  # the lab: not part of a turn
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, (dict, list, set, OrderedDict)) and not name.isupper() and not name.startswith("__"):
                offenders.append(f"{info.name}.{name}")
    assert offenders == []


class RefusingSEM(ScriptedSEM):
    def predict_proba(self, dialogues):
        raise AssertionError("the SEM ran")


@pytest.mark.parametrize(
    ("text", "reply_start"), [("   ", "I'm here and listening"), ("I want to end my life.", "I'm")]
)
def test_empty_and_crisis_turns_leave_before_any_model_runs(text, reply_start):
    refusing_llm = FlakyChatModel(responses=["x"], fail_on=set(range(10)))
    graph = build_graph(llm=refusing_llm, sem=RefusingSEM(), cause_tagger=ScriptedTagger())
    visited = [next(iter(step)) for step in graph.stream({"messages": [("user", text)]})]
    out = graph.invoke({"messages": [("user", text)]})
    assert visited[0] == "check_input" and "detect_emotion" not in visited
    assert out["reply"].startswith(reply_start) and out["emotion"] is None and refusing_llm.calls == 0


def test_each_node_logs_one_info_line_with_its_time(caplog):
    graph = build_graph(llm=fake_llm("lonely", "I'm here."), sem=ScriptedSEM(), cause_tagger=ScriptedTagger())
    with caplog.at_level(logging.INFO, logger="hef_graph"):
        graph.invoke({"messages": [("user", "Nobody called me on my birthday")]})
    lines = [r.getMessage() for r in caplog.records if r.name == "hef_graph.nodes"]
    assert [line.split()[0] for line in lines] == [
        "check_input", "detect_emotion", "judge_primary", "perceive_causes", "draft_response"
    ]  # fmt: skip
    assert all(line.endswith(" s") for line in lines)


def test_prompts_are_logged_at_debug_only(caplog):
    runtime = as_runtime(fake_llm("lonely"))
    request = JudgementRequest(stage="primary", dialogue="Speaker: nobody called", prior={"lonely": 0.7, "none": 0.3})
    with caplog.at_level(logging.INFO, logger="hef_graph"):
        runtime.judge(request, CallPolicy())
    assert not any("nobody called" in r.getMessage() for r in caplog.records)
    with caplog.at_level(logging.DEBUG, logger="hef_graph"):
        runtime.judge(request, CallPolicy())
    assert any("nobody called" in r.getMessage() and r.levelno == logging.DEBUG for r in caplog.records)


def test_context_carries_a_typed_runtime():
    runtime = as_runtime(fake_llm("x"))
    assert isinstance(runtime, LLMRuntime) and as_runtime(runtime) is runtime
    assert Context(llm=runtime).llm is runtime


def test_a_backend_that_scores_only_some_candidates_says_so():
    class FirstTwo(LLMRuntime):
        capabilities = Capabilities(score_labels=True, stream=False, reuse_prefix=False)

        def option_log_likelihoods(self, request):
            return {label: -1.0 for label in request.candidates[:2]}

    request = JudgementRequest(
        stage="fallback", dialogue="Speaker: hi", prior={"sad": 0.5, "lonely": 0.3, "proud": 0.2}
    )
    judgement = FirstTwo(fake_llm("x")).judge(request, CallPolicy())
    assert judgement["method"] == "scored" and set(judgement["scores"]) == {"sad", "lonely"}
    assert judgement["error"] == "offered 2 of 3 candidates, those the SEM finds most likely"


def test_a_chatopenai_keeps_its_settings_but_not_its_client_retries():
    from langchain_openai import ChatOpenAI

    from hef_graph.llm.openai_backend import OpenAIRuntime

    model = ChatOpenAI(model="m", base_url="http://127.0.0.1:9/v1", api_key="k", temperature=0.3, max_retries=5)
    runtime = as_runtime(model)
    assert isinstance(runtime, OpenAIRuntime) and runtime.capabilities.score_labels
    assert runtime.chat_model.max_retries == 0 and runtime.chat_model.root_client.max_retries == 0
    assert runtime.chat_model.temperature == 0.3 and runtime.chat_model.model_name == "m"
    assert runtime.name == "m at http://127.0.0.1:9/v1"
