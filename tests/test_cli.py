"""The `hef` command line: clear one-line errors, and a real respond run."""

import json

import pytest
from typer.testing import CliRunner

from hef_graph.cli import app

runner = CliRunner()


def test_respond_needs_text_or_dialogue():
    result = runner.invoke(app, ["respond"])
    assert result.exit_code == 2
    assert "give either a TEXT argument or --dialogue FILE" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "cannot read dialogue file"),
        ("[]", "must hold a non-empty JSON list of turns"),
        ('[{"role": "robot", "content": "x"}]', "turn 0 of"),
    ],
)
def test_bad_dialogue_files_give_one_line_errors(tmp_path, content, message):
    path = tmp_path / "d.json"
    path.write_text(content)
    result = runner.invoke(app, ["respond", "--dialogue", str(path)])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_dialogue_ending_with_the_assistant_is_rejected(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps(["I lost my wallet", "Oh no"]))
    result = runner.invoke(app, ["respond", "--dialogue", str(path)])
    assert result.exit_code == 2 and "the last message must be the user's" in result.output


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--source", "wiki"], "unknown training source 'wiki'"),
        (["--source", "ed-situations"], "train it with content words only"),
    ],
)
def test_bad_tagger_training_settings_give_one_line_errors(tmp_path, options, message):
    result = runner.invoke(app, ["train-cause-tagger", "--output-dir", str(tmp_path), *options])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output and not any(tmp_path.iterdir())


def test_graph_prints_mermaid_with_every_node():
    result = runner.invoke(app, ["graph"])
    assert result.exit_code == 0
    nodes = ("check_input", "detect_emotion", "judge_primary", "judge_fallback", "perceive_causes", "draft_response")
    assert all(node in result.output for node in nodes)


@pytest.mark.real
def test_respond_with_a_dialogue_file_prints_the_table_and_reply(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps(["I failed my exam.", "What happened?", "I studied for weeks and still failed."]))
    result = runner.invoke(app, ["respond", "--dialogue", str(path), "--json"])
    assert result.exit_code == 0, result.output
    state = json.loads(result.output[result.output.index("{") :])
    assert state["reply"] and state["emotion_stage"] in {"primary", "fallback", "sem"}
    assert len(state["dialogue"]) == 3
    first = state["judgements"][0]
    assert first["stage"] == "primary" and first["method"] in {"scored", "settled"}
    assert first["choice"] in first["candidates"]
    assert state["guidance"]["offered"] is False and state["guidance"]["notes"] == []  # the embedded LLM gets none


def test_graph_svg_to_an_unwritable_place_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["graph", "--svg", str(tmp_path / "missing" / "g.svg")])
    assert result.exit_code == 2 and "cannot write" in result.output and "Traceback" not in result.output


def test_graph_svg_draws_every_node(tmp_path):
    result = runner.invoke(app, ["graph", "--svg", str(tmp_path / "g.svg")])
    drawing = (tmp_path / "g.svg").read_text()
    assert result.exit_code == 0 and drawing.startswith("<svg") and 'data-node="perceive_causes"' in drawing
