"""The runtime stands apart from the lab: no runtime module imports it, and a turn runs without it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hef_graph.cli import app
from hef_graph.lab.architecture import RUNTIME, imports_of, module_part, part_of, source_files

ROOT = Path(__file__).resolve().parents[1]
LAB_PACKAGES = ("nltk", "matplotlib", "bert_score", "sacrebleu")
"""What the eval extra brings (scikit-learn arrives with sentence-transformers, which the SEM needs)."""


def runtime_modules() -> list[Path]:
    return [path for path in source_files() if part_of(path) in RUNTIME]


def test_no_runtime_module_imports_the_lab_except_inside_lab_commands():
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in runtime_modules()
        for module, lazy in imports_of(path)
        if module_part(module) == "lab" and (path.name != "cli.py" or not lazy)
    ]
    assert offenders == []
    assert len(runtime_modules()) > 30  # the walk found the runtime


BLOCK_LAB = """
import importlib.abc, sys
BLOCKED = {blocked!r}
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED or name == "hef_graph.lab" or name.startswith("hef_graph.lab."):
            raise ImportError(f"{{name}} is blocked: the runtime must not need it")
sys.meta_path.insert(0, Blocker())
"""

FAKE_TURN = """
from hef_graph import build_graph
from tests.conftest import ScriptedSEM, ScriptedTagger, fake_llm
out = build_graph(llm=fake_llm("sad", "I'm sorry."), sem=ScriptedSEM(), cause_tagger=ScriptedTagger()).invoke(
    {"messages": [("user", "My cat died")]})
assert out["reply"] == "I'm sorry.", out
"""

REAL_TURN = """
from hef_graph import build_graph
out = build_graph().invoke({"messages": [("user", "My dog died this morning. I keep expecting him at the door.")]})
assert out["reply"] and out["cause_words"] and out["emotion"], out
print(out["emotion"], [c["word"] for c in out["cause_words"]])
"""

REPORT = """
import sys
loaded = sorted(m for m in sys.modules if m.split(".")[:2] == ["hef_graph", "lab"] or m.split(".")[0] in {blocked!r})
assert loaded == [], loaded
"""


def run_python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "HEF_LLM": "smollm2"}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.subprocess
def test_a_turn_loads_no_lab_module():
    result = run_python(FAKE_TURN + REPORT.format(blocked=LAB_PACKAGES))
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.real
def test_a_real_turn_runs_with_the_lab_and_its_packages_blocked():
    """The shipped SEM, tagger and embedded LLM answer while every lab import would fail."""
    result = run_python(BLOCK_LAB.format(blocked=LAB_PACKAGES) + REAL_TURN)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "dog" in result.stdout or "died" in result.stdout


@pytest.mark.parametrize(("command", "extra", "module"), [("eval", "eval", "nltk"), ("train-sem", "train", "sklearn")])
def test_a_lab_command_names_the_extra_it_needs(monkeypatch, command, extra, module):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == module else real_find_spec(name, *a)
    )
    result = CliRunner().invoke(app, [command])
    assert result.exit_code == 2
    assert f"pip install 'hef-graph[{extra}]'" in result.output and "Traceback" not in result.output
