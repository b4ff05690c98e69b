"""The README is a front door: what HEF does, the two commands and `hef console` early; the details in docs/."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_the_two_commands_and_the_console_come_within_the_first_60_lines():
    first = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:60]
    for command in ("make demo", "make test", "hef console"):
        assert any(line.startswith((command, f".venv/bin/{command}")) for line in first), command
    assert any("docs/console_chat.png" in line for line in first)


def test_results_hold_the_current_numbers_only():
    assert len((ROOT / "docs" / "results.md").read_text(encoding="utf-8").splitlines()) <= 400


def test_every_relative_link_of_the_readme_and_docs_names_a_file_that_exists():
    pages = [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]
    broken = [f"{page.name}: {target}" for page in pages for target in LINK.findall(page.read_text(encoding="utf-8"))
              if "://" not in target and not (page.parent / target).exists()]  # fmt: skip
    assert broken == []
