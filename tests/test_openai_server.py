"""The OpenAI-compatible backend against a real server (llama-cpp-python serving the embedded GGUF).

Faults the real server will not produce on demand (HTTP 500/429/400, a stall, an answer without
log-probabilities) come from a small loopback HTTP server in this file, in front of nothing.
"""

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from langchain_core.messages import AIMessageChunk
from langchain_openai import ChatOpenAI
from langgraph.checkpoint.memory import InMemorySaver

from hef_graph import EMOTIONS, Context, build_graph, load_llm
from hef_graph.errors import LLMUnavailable
from hef_graph.llm.openai_backend import OpenAIRuntime
from tests.conftest import ScriptedSEM, ScriptedTagger, ask_the_llm, free_port

pytestmark = pytest.mark.openai_server
MESSAGE = "My dog died this morning. I keep expecting him at the door."


def chat_model(url: str, **kwargs) -> ChatOpenAI:
    return ChatOpenAI(model="smollm2", base_url=url, api_key="not-needed", **kwargs)


def test_a_graph_built_with_chatopenai_judges_by_scoring_through_the_server(openai_server, real_sem):
    graph = build_graph(llm=chat_model(openai_server), sem=real_sem)
    out = graph.invoke({"messages": [("user", MESSAGE)]}, context=ask_the_llm())
    first = out["judgements"][0]
    assert first["method"] == "scored" and first["error"] is None and first["answer"] == ""
    assert first["candidates"] == [*out["primary_emotions"], "none"]
    assert set(first["scores"]) == set(first["candidates"]) and sum(first["scores"].values()) == pytest.approx(1, 1e-4)
    assert first["choice"] == max(first["scores"], key=first["scores"].get)
    assert all(j["method"] == "scored" for j in out["judgements"])
    assert out["emotion"] in EMOTIONS and out["reply"].strip()


def test_the_openai_spec_loads_a_scoring_runtime_from_the_base_url(openai_server, monkeypatch):
    runtime = load_llm("openai:smollm2", base_url=openai_server)
    assert isinstance(runtime, OpenAIRuntime) and runtime.capabilities.score_labels
    assert openai_server in runtime.name
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server)
    assert load_llm("openai:smollm2").base_url.rstrip("/") == openai_server.rstrip("/")


def test_the_reply_streams_token_by_token_and_judgements_do_not(openai_server):
    graph = build_graph(
        llm=chat_model(openai_server, temperature=0), sem=ScriptedSEM(), cause_tagger=ScriptedTagger()
    )  # the same text twice
    chunks = [
        (chunk, meta["langgraph_node"])
        for chunk, meta in graph.stream({"messages": [("user", MESSAGE)]}, stream_mode="messages")
        if isinstance(chunk, AIMessageChunk) and chunk.content
    ]
    assert {node for _, node in chunks} == {"draft_response"}
    assert len(chunks) >= 3  # tokens, not one block
    streamed = "".join(chunk.content for chunk, _ in chunks)
    final = graph.invoke({"messages": [("user", MESSAGE)]})["reply"]
    assert final.split()[0] in streamed


class FaultServer:
    """A loopback HTTP server answering every chat request with one scripted fault, counting requests."""

    def __init__(self, status: int = 500, stall_s: float = 0.0, body: dict | None = None) -> None:
        self.requests = 0
        fault = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                fault.requests += 1
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(stall_s)
                payload = json.dumps(body or {"error": {"message": f"scripted {status}"}}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fault_server(request):
    server = FaultServer(**request.param)
    yield server
    server.close()


def answer_without_logprobs(text: str) -> dict:
    return {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop",
                         "logprobs": None}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}  # fmt: skip


@pytest.mark.parametrize("fault_server", [{"status": 500}, {"status": 429}], indirect=True, ids=["500", "429"])
def test_server_errors_are_retried_then_unavailable_and_the_thread_survives(openai_server, fault_server):
    saver, config = InMemorySaver(), {"configurable": {"thread_id": "server-faults"}}
    working = build_graph(
        checkpointer=saver, llm=chat_model(openai_server), sem=ScriptedSEM(), cause_tagger=ScriptedTagger()
    )
    first = working.invoke({"messages": [("user", "I got the job!")]}, config)
    broken = build_graph(
        checkpointer=saver, llm=chat_model(fault_server.url), sem=ScriptedSEM(), cause_tagger=ScriptedTagger()
    )
    with pytest.raises(LLMUnavailable, match=f"drafting the reply failed: smollm2 at {fault_server.url}.*3 attempts"):
        broken.invoke({"messages": [("user", "And I start on Monday.")]}, config, context=ask_the_llm(llm_attempts=3))
    assert fault_server.requests == 3 * 3  # stage one, stage two and the reply, three attempts each
    saved = working.get_state(config).values
    assert [m.content for m in saved["messages"]] == [*(m.content for m in first["messages"]), "And I start on Monday."]
    assert [j["method"] for j in saved["judgements"]] == ["failed", "failed"]  # the SEM's emotion stood
    again = working.invoke(None, config)  # retry the turn once the server is back
    assert again["reply"] and again["messages"][-1].content == again["reply"] and len(again["messages"]) == 4


def test_a_server_that_is_down_is_named_in_the_error():
    url = f"http://127.0.0.1:{free_port()}/v1"
    graph = build_graph(llm=chat_model(url), sem=ScriptedSEM(), cause_tagger=ScriptedTagger())
    with pytest.raises(LLMUnavailable, match=f"at {url}.*ConnectionError"):
        graph.invoke({"messages": [("user", "Hello?")]}, context=Context(llm_attempts=2))


@pytest.mark.parametrize("fault_server", [{"status": 200, "stall_s": 2.0}], indirect=True, ids=["slow"])
def test_a_slow_server_times_out(fault_server):
    graph = build_graph(llm=chat_model(fault_server.url), sem=ScriptedSEM(), cause_tagger=ScriptedTagger())
    started = time.perf_counter()
    with pytest.raises(LLMUnavailable, match="Timeout"):
        graph.invoke({"messages": [("user", "Hello?")]}, context=Context(llm_attempts=1, llm_timeout_s=0.5))
    assert time.perf_counter() - started < 2.0 * 3  # three calls, none waited for the stalled answer


@pytest.mark.parametrize("fault_server", [{"status": 400}], indirect=True, ids=["400"])
def test_a_bad_request_is_not_retried(fault_server):
    import openai

    graph = build_graph(llm=chat_model(fault_server.url), sem=ScriptedSEM(), cause_tagger=ScriptedTagger())
    with pytest.raises(openai.BadRequestError):
        graph.invoke({"messages": [("user", "Hello?")]}, context=Context(llm_attempts=3))
    assert fault_server.requests == 1


@pytest.mark.parametrize(
    "fault_server", [{"status": 200, "body": answer_without_logprobs("Lonely")}], indirect=True, ids=["no logprobs"]
)
def test_a_server_without_logprobs_is_judged_by_generation_and_the_record_says_so(fault_server):
    graph = build_graph(llm=chat_model(fault_server.url), sem=ScriptedSEM(), cause_tagger=ScriptedTagger())
    out = graph.invoke({"messages": [("user", "Nobody called me on my birthday.")]}, context=ask_the_llm())
    first = out["judgements"][0]
    assert first["method"] == "generated" and "no log-probabilities" in first["error"]
    assert first["choice"] == "lonely" and out["emotion"] == "lonely" and out["emotion_stage"] == "primary"


def test_the_choose_llm_example_runs_against_the_server(openai_server):
    import subprocess
    import sys
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / "examples" / "choose_llm.py"
    command = [sys.executable, str(example), "--llm", "openai:smollm2", "--base-url", openai_server]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "can score labels: True" in result.stdout
    assert re.search(r"judged by: (scored|settled)\b", result.stdout), result.stdout  # settled: the SEM was sure
