"""The in-process llama.cpp backend on the embedded GGUF: scored judgements, streamed replies."""

import importlib.util
import os

import pytest
from langchain_core.messages import AIMessageChunk

from hef_graph import Context, build_graph, load_llm
from hef_graph.judging import JudgementRequest, stage_one_prior
from hef_graph.llm.llama_cpp_backend import LlamaCppRuntime
from hef_graph.llm.openai_backend import OpenAIRuntime
from hef_graph.llm.runtime import Generation
from hef_graph.model_cache import ModelCache
from hef_graph.prompting import dialogue_prompt
from hef_graph.replies import clean_reply, reply_is_settled
from tests.conftest import ScriptedSEM, ScriptedTagger, ask_the_llm

if importlib.util.find_spec("llama_cpp") is None:
    if os.environ.get("HEF_REQUIRE_OPENAI_SERVER"):
        raise RuntimeError("llama-cpp-python is not installed, and CI requires it")
    pytest.skip("llama-cpp-python is not installed (`make test` installs it)", allow_module_level=True)

MESSAGE = "My dog died this morning. I keep expecting him at the door."

pytestmark = pytest.mark.real  # the module's fixture loads a real GGUF


@pytest.fixture(scope="module")
def llama_runtime():
    runtime = load_llm("llama.cpp:smollm2", cache=ModelCache(1))  # outside the shared cache, so it can be closed
    yield runtime
    runtime.chat_model.llama.close()  # before interpreter exit, where llama_cpp's own __del__ fails


def test_the_llama_cpp_spec_judges_by_scoring(llama_runtime, real_sem):
    assert isinstance(llama_runtime, LlamaCppRuntime) and llama_runtime.capabilities.score_labels
    graph = build_graph(llm=llama_runtime, sem=real_sem)
    out = graph.invoke({"messages": [("user", MESSAGE)]}, context=ask_the_llm())
    first = out["judgements"][0]
    assert first["method"] == "scored" and first["error"] is None and first["choice"] in first["candidates"]
    assert sum(first["scores"].values()) == pytest.approx(1.0, abs=1e-4) and out["reply"].strip()


def test_the_reply_streams_from_draft_response_only(llama_runtime):
    graph = build_graph(llm=llama_runtime, sem=ScriptedSEM(), cause_tagger=ScriptedTagger())
    chunks = [(chunk.content, meta["langgraph_node"])
              for chunk, meta in graph.stream({"messages": [("user", MESSAGE)]}, stream_mode="messages")
              if isinstance(chunk, AIMessageChunk) and chunk.content]  # fmt: skip
    assert len(chunks) >= 3 and {node for _, node in chunks} == {"draft_response"}


def test_in_process_and_served_letters_score_alike(llama_runtime, openai_server):
    """The same GGUF through the same engine: scoring in process equals scoring through the server."""
    served = load_llm("openai:smollm2", base_url=openai_server)
    assert isinstance(served, OpenAIRuntime)
    distribution = {"sad": 0.5, "lonely": 0.2, "devastated": 0.1, "afraid": 0.05}
    request = JudgementRequest(stage="primary", dialogue=f"Speaker: {MESSAGE}",
                               prior=stage_one_prior(distribution, ["sad", "lonely", "devastated"]))  # fmt: skip
    local, remote = llama_runtime.option_log_likelihoods(request), served.option_log_likelihoods(request)
    assert local.keys() == remote.keys()
    # the server reads the prompt in other batch sizes, so float sums differ in the last digits: up to 1e-3 nats
    # with the style guide's longer system prompt, far below any gap that could change a choice
    assert all(local[label] == pytest.approx(remote[label], abs=5e-3) for label in local)


def test_an_unknown_gguf_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="use smollm2, qwen0.5b, qwen1.5b or the path of a .gguf file"):
        load_llm("llama.cpp:no-such-model")


@pytest.mark.parametrize("dialogue", [MESSAGE, "I finally got the job offer after six interviews!"])
def test_a_reply_stops_once_its_sentences_are_settled_and_reads_the_same(llama_runtime, dialogue):
    """Stopping early (greedy decoding, both from a cold cache) gives a prefix of the full text, the same reply."""
    messages = dialogue_prompt("draft_response", f"Speaker: {dialogue}", notes="")
    policy = Context().call_policy()
    llama_runtime.clear_prefixes()
    full = llama_runtime.reply(messages, Generation(96, 1.3), policy)
    llama_runtime.clear_prefixes()
    early = llama_runtime.reply(messages, Generation(96, 1.3, stop_after_sentences=2), policy)
    assert full.startswith(early) and clean_reply(early) == clean_reply(full)
    if reply_is_settled(full[: len(early)]) and len(early) < len(full):
        assert llama_runtime.count_tokens(early) < llama_runtime.count_tokens(full)


@pytest.mark.parametrize("sentences", [None, 2])
def test_a_reply_can_be_begun_with_an_opener(llama_runtime, sentences):
    """The model continues the chat prompt after the opener (both the whole and the streamed, early-stopped path)."""
    messages = dialogue_prompt("draft_response", f"Speaker: {MESSAGE}", notes="")
    caps = Generation(48, 1.3, stop_after_sentences=sentences, opener="Oh, I'm so sorry")
    reply = llama_runtime.reply(messages, caps, Context().call_policy())
    rest = reply.removeprefix("Oh, I'm so sorry")
    assert rest != reply and rest.strip() and "<|im_" not in rest and "Speaker:" not in rest
    assert llama_runtime.chat_model.chat_prompt(messages).endswith("assistant\n")  # the template's answer slot
