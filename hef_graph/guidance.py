"""What the SEM tells the LLM before it replies: calibrated, gated notes instead of a label and a word list.

Blind raters found that naming a label that is wrong half the time, and listing cause words, made replies
worse (docs/results.md). So each note is given only when its evidence is strong, and none of them is a word
for the LLM to repeat:

- the **valence** (good news or hard news) when the SEM's probability mass on that side of ``VALENCE`` is
  at least ``valence_confidence``;
- the **listener move** (``LISTENER_MOVE``: celebrate, comfort, reassure, ...) of the final emotion when the
  SEM's mass over that move's labels is at least ``move_confidence``;
- the **emotion** when the final emotion's SEM probability is at least ``label_confidence``;
- the **cause** as the speaker's own clause, quoted, when the cause tagger's best word there scores at least
  ``cause_confidence``.

Below every gate the prompt carries no note at all, which is exactly the framed LLM alone.

An LLM that can be made to start its reply with given words (``Capabilities.starts_replies``) may instead
get the move's **opener** (``prompts/opener_<move>.txt``: "Oh, I'm so sorry", "Well done", ...), under the
same ``move_confidence`` gate. The small embedded LLM ignores notes, but continues a reply begun for it;
blind raters preferred its replies begun that way (docs/results.md, issue 28).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal, TypedDict

from langchain_core.messages import BaseMessage

from hef_graph.dialogue import format_dialogue
from hef_graph.labels import LISTENER_MOVE, VALENCE, Move
from hef_graph.prompting import dialogue_prompt, render_prompt
from hef_graph.records import CauseWordEntry

Side = Literal["positive", "negative"]
"""The two valences a note can state (an ambiguous label states neither)."""
MAX_QUOTE_WORDS = 14
"""A quoted clause longer than this is cut to a window around its best cause word."""
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")
_CLAUSE = re.compile(r"[^,;:()\u2014]+")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class GuidanceGates:
    """The evidence each note needs (``Context`` holds the tuned values)."""

    label_confidence: float
    valence_confidence: float
    cause_confidence: float
    move_confidence: float
    opener_confidence: float = 1.01
    """The move's mass at which the reply starts with the move's opener (above 1: never)."""

    @property
    def offers_notes(self) -> bool:
        """Whether any note can pass: False when this LLM gets no notes at all, whatever the evidence."""
        return replace(self, opener_confidence=SHUT_GATES.opener_confidence) != SHUT_GATES


SHUT_GATES = GuidanceGates(1.01, 1.01, 1.01, 1.01)
"""No note and no opener passes: the reply prompt is exactly the framed LLM alone's."""


class Guidance(TypedDict):
    """The notes a reply was given, and the evidence behind each (kept in the state for traces)."""

    emotion: str | None
    """The final emotion, when its SEM probability passed the gate; else None (not named)."""
    emotion_probability: float
    valence: Side | None
    """Good or hard news, when the SEM's mass on that side passed the gate; else None."""
    valence_mass: float
    move: Move | None
    """What the listener should do (celebrate, comfort, ...), when the SEM's mass on its labels passed the gate."""
    move_mass: float
    opener: str | None
    """The words the reply was made to start with (the final emotion's move's opener), when the SEM's mass on
    the move passed its gate and the LLM can be started; else None."""
    cause_quote: str | None
    """The speaker's own clause that holds the strongest cause words, when they passed the gate."""
    cause_score: float
    notes: list[str]
    """The note lines the reply prompt carried, in order; empty when every gate stayed shut."""
    offered: bool
    """False when this LLM gets no notes at all (``Context.reply_notes``), whatever the evidence."""


def valence_mass(distribution: Mapping[str, float]) -> dict[Side, float]:
    """The probability mass on good-news and on hard-news labels ('ambiguous' labels count for neither)."""
    return {
        "positive": sum(p for label, p in distribution.items() if VALENCE.get(label) == "positive"),
        "negative": sum(p for label, p in distribution.items() if VALENCE.get(label) == "negative"),
    }


def likely_valence(distribution: Mapping[str, float], threshold: float) -> tuple[Side | None, float]:
    """The side holding at least ``threshold`` of the mass, with that mass; (None, larger mass) when neither does."""
    masses = valence_mass(distribution)
    side: Side = max(masses, key=masses.__getitem__)
    return (side if masses[side] >= threshold else None), masses[side]


def move_mass(distribution: Mapping[str, float], move: Move) -> float:
    """The probability mass on the labels that share ``move``."""
    return sum(p for label, p in distribution.items() if LISTENER_MOVE.get(label) == move)


def move_opener(distribution: Mapping[str, float], emotion: str, gate: float) -> str | None:
    """The opener of ``emotion``'s listener move, when the distribution's mass on the move reaches ``gate``."""
    move = LISTENER_MOVE.get(emotion)
    return render_prompt(f"opener_{move}") if move and move_mass(distribution, move) >= gate else None


def compose_guidance(
    distribution: Mapping[str, float],
    emotion: str,
    dialogue: Sequence[str],
    cause_words: Sequence[CauseWordEntry],
    gates: GuidanceGates,
) -> Guidance:
    """Decide which notes the reply gets, from the SEM's distribution, the final emotion and the tagged causes."""
    valence, mass = likely_valence(distribution, gates.valence_confidence)
    probability = float(distribution.get(emotion, 0.0))
    named = emotion if probability >= gates.label_confidence else None
    move_of_emotion = LISTENER_MOVE.get(emotion)
    family_mass = move_mass(distribution, move_of_emotion) if move_of_emotion else 0.0
    move = move_of_emotion if family_mass >= gates.move_confidence else None
    quote, score = speaker_clause(dialogue, cause_words)
    quote = quote if score >= gates.cause_confidence else None
    return Guidance(emotion=named, emotion_probability=round(probability, 4), valence=valence,
                    valence_mass=round(mass, 4), move=move, move_mass=round(family_mass, 4),
                    opener=move_opener(distribution, emotion, gates.opener_confidence), cause_quote=quote,
                    cause_score=round(score, 4), notes=note_lines(valence, move, named, quote),
                    offered=gates.offers_notes)  # fmt: skip


def note_lines(valence: Side | None, move: Move | None, emotion: str | None, quote: str | None) -> list[str]:
    """The note lines for the evidence that passed its gate, each from its prompt file."""
    notes = []
    if valence is not None:
        notes.append(render_prompt(f"note_{valence}"))
    if move is not None:
        notes.append(render_prompt(f"note_move_{move}"))
    if emotion is not None:
        notes.append(render_prompt("note_emotion", emotion=emotion))
    if quote is not None:
        notes.append(render_prompt("note_cause", quote=quote))
    return notes


def reply_messages(dialogue: Sequence[str], notes: Sequence[str], max_chars: int) -> list[BaseMessage]:
    """The reply prompt: the quoted dialogue, then the reply task with the notes (none: the framed LLM alone)."""
    block = "\n" + render_prompt("reply_notes", notes="\n".join(f"- {note}" for note in notes)) if notes else ""
    return dialogue_prompt("draft_response", format_dialogue(dialogue, max_chars), notes=block)


def speaker_clause(dialogue: Sequence[str], cause_words: Sequence[CauseWordEntry]) -> tuple[str | None, float]:
    """The speaker's clause holding the most cause-word score, and the best single word score in it.

    Only the speaker's turns count (the last turn's side), since the quote is offered as their own words; a
    tie goes to the later turn. A clause longer than ``MAX_QUOTE_WORDS`` is cut to a window around its best word.
    """
    best: tuple[float, int, tuple[int, int], CauseWordEntry] | None = None
    for turn in range(len(dialogue) - 1, -1, -2):
        for start, end in clause_spans(dialogue[turn]):
            inside = [w for w in cause_words if w["turn"] == turn and start <= w["start"] and w["end"] <= end]
            total = sum(w["score"] for w in inside)
            if inside and (best is None or total > best[0]):
                best = (total, turn, (start, end), max(inside, key=lambda w: w["score"]))
    if best is None:
        return None, 0.0
    _, turn, (start, end), anchor = best
    return trimmed(dialogue[turn], start, end, anchor["start"]), anchor["score"]


def clause_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the text's clauses: sentences, split again at commas, semicolons and dashes."""
    spans = []
    for sentence in _SENTENCE.finditer(text):
        for clause in _CLAUSE.finditer(sentence.group()):
            if clause.group().strip():
                spans.append((sentence.start() + clause.start(), sentence.start() + clause.end()))
    return spans


def trimmed(text: str, start: int, end: int, anchor: int) -> str:
    """The clause's words (at most ``MAX_QUOTE_WORDS``, centred on ``anchor``) without closing punctuation."""
    words = [(m.start() + start, m.end() + start) for m in _WORD.finditer(text[start:end])]
    centre = next((i for i, (s, e) in enumerate(words) if s <= anchor < e), 0)
    first = max(0, min(centre - MAX_QUOTE_WORDS // 2, len(words) - MAX_QUOTE_WORDS))
    kept = words[first : first + MAX_QUOTE_WORDS]
    return text[kept[0][0] : kept[-1][1]].strip().rstrip(".!?,;:").strip('"')
