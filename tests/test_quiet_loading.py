"""Quiet loading: `hef respond` and `hef chat` print no library progress bars unless --log-level DEBUG."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tqdm.auto import tqdm

from hef_graph.model_cache import ModelCache

HEF = str(Path(sys.executable).with_name("hef"))
BARS = ("Loading weights", "Converting and de-quantizing", "it/s]")


def hef(*args: str, stdin: str | None = None, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.endswith("PROGRESS_BARS")}
    env |= {"HF_HUB_OFFLINE": "1", "HEF_LLM": "smollm2", "HEF_DATA_HOME": str(cwd)}
    result = subprocess.run([HEF, *args], input=stdin, capture_output=True, text=True, timeout=600, cwd=cwd, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


@pytest.mark.real
@pytest.mark.subprocess
def test_respond_and_chat_load_quietly_and_debug_shows_the_bars(tmp_path):
    quiet = hef("respond", "--llm", "smollm2", "--json", "I lost my job today", cwd=tmp_path)
    assert '"reply"' in quiet.stdout
    assert not any(bar in quiet.stderr + quiet.stdout for bar in BARS), quiet.stderr[-1000:]
    chat = hef("chat", "--db", str(tmp_path / "t.sqlite"), "--llm", "smollm2", stdin="My dog died.\n/quit\n",
               cwd=tmp_path)  # fmt: skip
    assert "hef>" in chat.stdout
    assert not any(bar in chat.stderr + chat.stdout for bar in BARS), chat.stderr[-1000:]
    loud = hef("--log-level", "DEBUG", "respond", "--llm", "smollm2", "--json", "I lost my job today", cwd=tmp_path)
    assert "Loading weights" in loud.stderr


def loads_with_a_bar() -> str:
    for _ in tqdm(range(3), desc="Loading weights"):
        pass
    return "model"


def test_a_quiet_model_cache_swallows_what_a_build_writes_to_stderr(capsys):
    cache = ModelCache()
    cache.quiet = True
    assert cache.get("quiet", loads_with_a_bar) == "model"
    assert "Loading weights" not in capsys.readouterr().err
    assert ModelCache().get("loud", loads_with_a_bar) == "model"
    assert "Loading weights" in capsys.readouterr().err
