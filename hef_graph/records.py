"""Typed records shared by the state and the modules that compute its fields.

They live apart from ``state.py``, which imports those modules, so that no module has to import the state
back for a type: the package's imports stay free of cycles (tests/test_import_cycles.py).
"""

from __future__ import annotations

from typing import TypedDict

from typing_extensions import NotRequired  # typing has it from Python 3.11 only


class CauseWordEntry(TypedDict):
    """One emotion-cause word: its text, its score (tagger probability or attribution share), its place."""

    word: str
    score: float
    turn: int
    start: int
    end: int
    agrees: NotRequired[bool]
    """With ``cause_source='both'``: the SEM's attribution chose this word too."""
