"""Rating packets in the browser: read a ``hef rate-export`` packet, keep each rater's rankings as they go.

The console reads only ``packet.md`` (dialogues and replies under shuffled letters); it never opens
``key.json``, so no page can show which system wrote a reply. Each rater's rankings go to
``<packet>/rankings/<rater>.txt`` in the lines ``hef rate-score`` reads (``7: B > A = C``), rewritten whole on
every answer, so a reload resumes where the rater stopped and several raters work at once on their own files.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from hef_graph.console.records import ConsoleFault

_HEADING = re.compile(r"^## Dialogue (\d+)\s*$")
_TURN = re.compile(r"^(Speaker|Listener): ?(.*)$")
_REPLY = re.compile(r"^([A-H]): ?(.*)$")
_RANKED = re.compile(r"^\s*(\d+)\s*:\s*(.+?)\s*$")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


class UnknownPacket(ConsoleFault):
    """No packet of that name in the console's packets folder."""

    status = 404


class BadPacket(ConsoleFault):
    """The packet, or an answer about it, cannot be read; the message says where."""

    status = 422


@dataclass(frozen=True)
class RatedDialogue:
    """One dialogue of a packet: its number, its turns (role, text) and its replies by letter."""

    number: int
    turns: tuple[tuple[str, str], ...]
    replies: tuple[tuple[str, str], ...]


def packet_names(root: Path) -> list[str]:
    """The packets under ``root``: its folders that hold a packet.md."""
    return sorted(path.parent.name for path in root.glob("*/packet.md") if _NAME.match(path.parent.name))


def read_packet(root: Path, name: str) -> list[RatedDialogue]:
    """The dialogues of packet ``name``; UnknownPacket or BadPacket says what is wrong."""
    path = root / name / "packet.md"
    if not _NAME.match(name) or not path.is_file():
        raise UnknownPacket(f"There is no packet named {name!r} here. Check the link you were given.")
    try:
        return parse_packet(path.read_text(encoding="utf-8"), name)
    except UnicodeDecodeError:
        raise BadPacket(f"Packet {name!r} is not UTF-8 text: it was not made by hef rate-export.") from None


def parse_packet(text: str, name: str) -> list[RatedDialogue]:
    """Read packet.md as ``rate-export`` writes it: '## Dialogue N', the turns, 'Replies:', then 'A: ...' lines."""
    dialogues: list[RatedDialogue] = []
    number: int | None = None
    turns: list[tuple[str, str]] = []
    replies: list[tuple[str, str]] = []
    in_replies = False
    for line_number, line in enumerate(text.splitlines(), start=1):
        where = f"Packet {name!r}, line {line_number}"
        if heading := _HEADING.match(line):
            if number is not None:
                dialogues.append(_dialogue(number, turns, replies, name))
            number, turns, replies, in_replies = int(heading.group(1)), [], [], False
        elif not line.strip():
            continue
        elif number is None:
            raise BadPacket(f"{where}: expected '## Dialogue 1' first; this is not a hef rate-export packet.")
        elif line.strip() == "Replies:":
            in_replies = True
        elif in_replies and (reply := _REPLY.match(line)):
            replies.append((reply.group(1), reply.group(2)))
        elif in_replies and replies:  # a reply that runs over several lines
            replies[-1] = (replies[-1][0], f"{replies[-1][1]}\n{line}")
        elif not in_replies and (turn := _TURN.match(line)):
            turns.append((turn.group(1), turn.group(2)))
        else:
            raise BadPacket(f"{where}: cannot read {line.strip()[:60]!r}; expected a 'Speaker:' turn or a reply.")
    if number is not None:
        dialogues.append(_dialogue(number, turns, replies, name))
    if not dialogues:
        raise BadPacket(f"Packet {name!r} holds no dialogue.")
    if len({d.number for d in dialogues}) != len(dialogues):
        raise BadPacket(f"Packet {name!r} numbers a dialogue twice.")
    return dialogues


def _dialogue(number: int, turns: list[tuple[str, str]], replies: list[tuple[str, str]], name: str) -> RatedDialogue:
    letters = [letter for letter, _ in replies]
    if not turns or len(replies) < 2 or len(set(letters)) != len(letters):
        raise BadPacket(f"Packet {name!r}, dialogue {number}: needs its turns and at least two replies, "
                        "each under its own letter.")  # fmt: skip
    return RatedDialogue(number, tuple(turns), tuple(replies))


def ranking_line(ranks: Mapping[str, int]) -> str:
    """{letter: rank} (1 is best; equal ranks tie) as ``B > A = C``."""
    groups: dict[int, list[str]] = {}
    for letter, rank in ranks.items():
        groups.setdefault(rank, []).append(letter)
    return " > ".join(" = ".join(sorted(groups[rank])) for rank in sorted(groups))


def ranks_of(line: str) -> dict[str, int]:
    """``B > A = C`` back as {letter: rank}, 1 best (what the page shows on a return)."""
    return {letter.strip(): rank for rank, group in enumerate(line.split(">"), start=1) for letter in group.split("=")}


class RankingFiles:
    """Each rater's ranking file of each packet, written whole and atomically on every answer."""

    def __init__(self, root: Path) -> None:
        """Keep rankings under each packet folder of ``root``."""
        self.root = root
        self._lock = threading.Lock()

    def path(self, packet: str, rater: str) -> Path:
        """The rater's file: their id, percent-encoded, so no id can name a path elsewhere."""
        if not rater.strip():
            raise BadPacket("A rater needs a name.")
        return self.root / packet / "rankings" / f"{quote(rater.strip(), safe='')}.txt"

    def load(self, packet: str, rater: str) -> dict[int, str]:
        """The rater's rankings so far, by dialogue number."""
        path = self.path(packet, rater)
        if not path.is_file():
            return {}
        found = (_RANKED.match(line) for line in path.read_text(encoding="utf-8").splitlines())
        return {int(m.group(1)): m.group(2) for m in found if m}

    def save(self, packet: str, rater: str, dialogue: RatedDialogue, ranks: Mapping[str, int]) -> dict[int, str]:
        """Record the rater's ranking of one dialogue (replacing an earlier one); return all of theirs."""
        letters = {letter for letter, _ in dialogue.replies}
        if set(ranks) != letters or not all(isinstance(r, int) and 1 <= r <= len(letters) for r in ranks.values()):
            raise BadPacket(f"Rank every reply of dialogue {dialogue.number} ({', '.join(sorted(letters))}) "
                            f"from 1 (best) to {len(letters)}; equal ranks are ties.")  # fmt: skip
        path = self.path(packet, rater)
        with self._lock:
            rankings = self.load(packet, rater) | {dialogue.number: ranking_line(ranks)}
            lines = [f"# rankings of {rater.strip()} for packet {packet} (hef console)"]
            lines += [f"{number}: {rankings[number]}" for number in sorted(rankings)]
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".tmp{os.getpid()}")
            temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
            temporary.replace(path)
        return rankings
