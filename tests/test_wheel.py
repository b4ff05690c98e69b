"""A wheel built from the tree and installed into a fresh venv imports, finds its prompts and answers."""

import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(work / "dist"), str(ROOT)],
                   check=True, capture_output=True)  # fmt: skip
    return next((work / "dist").glob("hef_graph-*.whl"))


def requirement_names(metadata: str, extra: str | None) -> set[str]:
    """Distribution names a wheel requires: unconditionally (extra None) or for one extra."""
    lines = [
        line.removeprefix("Requires-Dist: ") for line in metadata.splitlines() if line.startswith("Requires-Dist:")
    ]
    wanted = [line for line in lines if ("extra ==" not in line if extra is None else f'extra == "{extra}"' in line)]
    return {re.split(r"[\s<>=!~;\[]", line, maxsplit=1)[0].lower() for line in wanted}


def test_the_runtime_requirements_leave_the_lab_packages_to_extras(wheel):
    """`pip install hef-graph` brings no evaluation or plotting package; the extras do."""
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    runtime = requirement_names(metadata, None)
    assert runtime.isdisjoint({"nltk", "matplotlib", "scikit-learn", "bert-score", "sacrebleu"})
    assert {"langgraph", "torch", "sentence-transformers", "llama-cpp-python"} <= runtime
    assert {"nltk", "matplotlib"} <= requirement_names(metadata, "eval")
    assert "scikit-learn" in requirement_names(metadata, "train")


@pytest.fixture(scope="module")
def wheel_venv(wheel, tmp_path_factory) -> Path:
    work = wheel.parent.parent
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)
    # Dependencies (torch, transformers, ...) come from the test venv by a plain path entry, which
    # does not activate the editable install's finder: hef_graph can only come from the wheel.
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()  # fmt: skip
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def run_in(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": ""}
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_wheel_layout_is_namespaced(wheel_venv, tmp_path):
    code = (
        "import importlib.util, hef_graph, hef_graph.nodes, hef_graph.prompts\n"
        "from hef_graph.prompting import render_prompt\n"
        "from hef_graph.sem.resident import shipped_sem_dir\n"
        "assert importlib.util.find_spec('nodes') is None and importlib.util.find_spec('prompts') is None\n"
        "assert render_prompt('system')\n"
        "assert (shipped_sem_dir() / 'sem_config.json').is_file()\n"
        "print(hef_graph.__file__)\n"
    )
    result = run_in(wheel_venv, str(wheel_venv / "bin" / "python"), "-c", code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert str(wheel_venv) in result.stdout


@pytest.mark.real
def test_installed_hef_respond_answers(wheel_venv, tmp_path):
    result = run_in(wheel_venv, str(wheel_venv / "bin" / "hef"), "respond", "I lost my job today.", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "What HEF decided" in result.stdout and "HEF:" in result.stdout
