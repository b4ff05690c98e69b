"""`hef chat` driven through a pseudo-terminal with the real embedded models."""

import sys
from pathlib import Path

import pexpect
import pytest

pytestmark = pytest.mark.real
HEF = str(Path(sys.executable).with_name("hef"))
ENV = {"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "TERM": "dumb", "NO_COLOR": "1",
       "COLUMNS": "120"}  # fmt: skip


def test_chat_answers_explains_traces_and_starts_new_threads(tmp_path):
    db = tmp_path / "threads.sqlite"
    child = pexpect.spawn(HEF, ["chat", "--db", str(db)], cwd=str(tmp_path), encoding="utf-8", timeout=240, env=ENV)
    child.expect(r"HEF chat on thread (\w+)")
    first_thread = child.match.group(1)
    child.expect("you>")
    child.sendline("My dog died this morning.")
    child.expect("hef>")
    child.expect("you>")
    child.sendline("/why")
    child.expect("What HEF decided")
    child.expect("you>")
    child.sendline("/trace turn.html")
    child.expect("trace written to turn.html")
    child.expect("you>")
    child.sendline("/new")
    child.expect(r"new thread (\w+)")
    assert child.match.group(1) != first_thread
    child.expect("you>")
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    assert "Turn 1" in (tmp_path / "turn.html").read_text()
    # threads persist: a new run continues the last thread
    again = pexpect.spawn(HEF, ["chat", "--db", str(db)], encoding="utf-8", timeout=120, env=ENV)
    again.expect(r"HEF chat on thread (\w+)")
    assert again.match.group(1) != first_thread  # the /new thread was the last one used
    again.sendline("/quit")
    again.expect(pexpect.EOF)
