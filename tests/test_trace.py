"""Trace pages: self-contained HTML with the path, timings, distribution, causes, decisions and reply."""

import os
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from hef_graph import Context, as_runtime, build_graph
from hef_graph.trace import GraphShape, graph_svg, render_html, standalone_svg, traced_invoke, turns_from_history
from tests.conftest import ScriptedSEM, ScriptedTagger, StartingRuntime, fake_llm

ARTEFACTS = Path(os.environ.get("HEF_TEST_ARTEFACTS", Path(__file__).resolve().parents[1] / "test-artefacts"))


def fallback_turn():
    graph = build_graph(
        llm=fake_llm("none", "nostalgic", "Old photos bring it back."), sem=ScriptedSEM(), cause_tagger=ScriptedTagger()
    )
    return traced_invoke(graph, {"messages": [("user", "I found my old school photos in the attic")]})


def test_trace_records_the_path_and_renders_every_part():
    turn = fallback_turn()
    assert [node for node, _ in turn.steps] == [
        "check_input", "detect_emotion", "judge_primary", "judge_fallback", "perceive_causes", "draft_response"
    ]  # fmt: skip
    page = render_html([turn])
    assert 'data-edge="judge_primary->judge_fallback"' in page and "edge taken" in page
    assert page.count('class="emotion-row"') == 32 and "★ top-k" in page
    assert '<mark class="cause"' in page
    assert "nostalgic" in page and "Old photos bring it back." in page
    assert page.count('class="timing"') == 6
    assert page.count("class='judgement'") == 2 and "data-method='generated'" in page
    assert "Notes given to the LLM" in page and "none: no evidence passed its gate" in page


def test_trace_lists_the_notes_the_reply_was_given():
    graph = build_graph(llm=fake_llm("So sorry."), sem=ScriptedSEM(ranking=("sad",)), cause_tagger=ScriptedTagger())
    page = render_html([traced_invoke(graph, {"messages": [("user", "My dog died this morning")]})])
    assert "<ul class='notes'><li>Something hurt them or let them down: comfort them gently.</li></ul>" in page


def test_trace_says_when_the_llm_gets_no_notes_at_all():
    llm = as_runtime(fake_llm("So sorry."))
    llm.capabilities = replace(llm.capabilities, follows_notes=False)  # as the embedded small LLMs declare
    graph = build_graph(llm=llm, sem=ScriptedSEM(ranking=("sad",)), cause_tagger=ScriptedTagger())
    page = render_html([traced_invoke(graph, {"messages": [("user", "My dog died this morning")]})])
    assert "none: this LLM gets no notes (Context.reply_notes)" in page and "<ul class='notes'>" not in page


def test_trace_shows_the_words_the_reply_was_begun_with():
    graph = build_graph(llm=StartingRuntime("to hear that."), sem=ScriptedSEM(ranking=("sad",)),
                        cause_tagger=ScriptedTagger())  # fmt: skip
    page = render_html([traced_invoke(graph, {"messages": [("user", "My dog died this morning")]})])
    assert "<p class='opener'>reply begun with \u201cOh, I&#x27;m so sorry\u201d" in page
    assert "Oh, I&#x27;m so sorry to hear that." in page


def test_trace_says_where_the_tagger_and_the_attribution_agree():
    graph = build_graph(llm=fake_llm("sad", "I'm sorry."), sem=ScriptedSEM(), cause_tagger=ScriptedTagger())
    tagged_only = render_html([traced_invoke(graph, {"messages": [("user", "My cat died last night")]},
                                             context=Context(cause_tagger=ScriptedTagger()))])  # fmt: skip
    assert 'class="agreement"' not in tagged_only and '<mark class="cause"' in tagged_only
    graph = build_graph(llm=fake_llm("sad", "I'm sorry."), sem=ScriptedSEM(), cause_tagger=ScriptedTagger())
    context = Context(cause_tagger=ScriptedTagger(), cause_source="both")
    both = render_html([traced_invoke(graph, {"messages": [("user", "My cat died last night")]}, context=context)])
    assert '<mark class="cause agrees"' in both
    assert re.search(r'class="agreement">Tagger and SEM attribution agree on: \w', both)


def test_trace_page_loads_nothing_from_the_network():
    page = render_html([fallback_turn()])
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<script" not in page and "@import" not in page


def test_user_text_is_escaped():
    graph = build_graph(llm=fake_llm("sad", "ok"), sem=ScriptedSEM(), cause_tagger=ScriptedTagger())
    page = render_html([traced_invoke(graph, {"messages": [("user", "<script>alert(1)</script> my cat died")]})])
    assert "<script>" not in page and "</script>" not in page
    assert "&lt;/script&gt;" in page or "&lt;/<mark" in page  # escaped, whether or not a cause word is marked


def test_history_gives_one_trace_per_turn():
    graph = build_graph(checkpointer=InMemorySaver(), llm=fake_llm("sad", "Sorry.", "none", "nostalgic", "Old times?"),
                        sem=ScriptedSEM(), cause_tagger=ScriptedTagger())  # fmt: skip
    config = {"configurable": {"thread_id": "x"}}
    graph.invoke({"messages": [("user", "My cat died")]}, config)
    graph.invoke({"messages": [("user", "Nobody called")]}, config)
    turns = turns_from_history(graph, config)
    assert [t.state["emotion"] for t in turns] == ["sad", "nostalgic"]
    assert "judge_fallback" in [n for n, _ in turns[1].steps] and "judge_fallback" not in [n for n, _ in turns[0].steps]


def test_the_drawing_follows_the_compiled_graph():
    """Trace and `hef graph --svg` read the topology from the graph that ran, not from a list of their own."""
    full = GraphShape.of(build_graph(llm=fake_llm("x"), sem=ScriptedSEM(), cause_tagger=ScriptedTagger()))
    no_reply = GraphShape.of(
        build_graph(llm=fake_llm("x"), sem=ScriptedSEM(), cause_tagger=ScriptedTagger(), reply=False)
    )
    assert ("perceive_causes", "draft_response", False) in full.edges
    assert ("judge_primary", "judge_fallback", True) in full.edges
    assert "draft_response" not in no_reply.nodes and ("perceive_causes", "__end__", False) in no_reply.edges
    levels = full.levels()
    assert levels["__start__"] == 0 and levels["judge_fallback"] > levels["judge_primary"] > levels["detect_emotion"]
    assert levels["__end__"] == max(levels.values())
    drawing = graph_svg(no_reply, ["check_input", "detect_emotion", "judge_primary", "perceive_causes"])
    assert 'data-edge="perceive_causes->__end__"' in drawing and "draft_response" not in drawing
    assert drawing.count('class="node visited"') == 6 and "stroke-dasharray" in drawing
    assert standalone_svg(full).startswith("<svg") and "<style>" in standalone_svg(full)


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_trace_renders_in_headless_chromium(tmp_path):
    page = tmp_path / "trace.html"
    page.write_text(render_html([fallback_turn()]))
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTEFACTS / "trace.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]  # fmt: skip
    dom = subprocess.run(["chromium", *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count('class="emotion-row"') == 32 and "Old photos bring it back." in dom.stdout
    shot = subprocess.run(["chromium", *flags, f"--screenshot={screenshot}", "--window-size=1000,1800", page.as_uri()],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert shot.returncode == 0 and screenshot.read_bytes()[:4] == b"\x89PNG"
