"""The 32 EmpatheticDialogues emotion labels and a forgiving parser for LLM answers."""

from __future__ import annotations

import re
from typing import Literal

EMOTIONS: tuple[str, ...] = (
    "afraid", "angry", "annoyed", "anticipating", "anxious", "apprehensive", "ashamed", "caring",
    "confident", "content", "devastated", "disappointed", "disgusted", "embarrassed", "excited",
    "faithful", "furious", "grateful", "guilty", "hopeful", "impressed", "jealous", "joyful", "lonely",
    "nostalgic", "prepared", "proud", "sad", "sentimental", "surprised", "terrified", "trusting",
)  # fmt: skip

NONE_OF_THESE = "none"
"""What stage one answers when no primary emotion fits the dialogue."""

# Inflections and near-synonyms a small LLM writes instead of the label itself.
_ALIASES: dict[str, str] = {
    "fear": "afraid", "fearful": "afraid", "scared": "afraid", "frightened": "afraid",
    "anger": "angry", "mad": "angry",
    "annoyance": "annoyed", "annoying": "annoyed", "irritated": "annoyed",
    "anticipation": "anticipating", "anticipate": "anticipating", "anticipated": "anticipating",
    "anxiety": "anxious", "worried": "anxious", "nervous": "anxious",
    "apprehension": "apprehensive",
    "shame": "ashamed",
    "care": "caring", "compassion": "caring", "compassionate": "caring",
    "confidence": "confident",
    "contentment": "content", "satisfied": "content",
    "devastation": "devastated", "heartbroken": "devastated",
    "disappointment": "disappointed",
    "disgust": "disgusted", "disgusting": "disgusted",
    "embarrassment": "embarrassed", "embarrassing": "embarrassed",
    "excitement": "excited", "exciting": "excited",
    "faith": "faithful",
    "fury": "furious", "enraged": "furious", "rage": "furious",
    "gratitude": "grateful", "thankful": "grateful",
    "guilt": "guilty",
    "hope": "hopeful", "hopefulness": "hopeful",
    "impressive": "impressed",
    "jealousy": "jealous", "envious": "jealous", "envy": "jealous",
    "joy": "joyful", "happy": "joyful", "happiness": "joyful", "joyous": "joyful",
    "loneliness": "lonely", "alone": "lonely",
    "nostalgia": "nostalgic",
    "preparation": "prepared", "ready": "prepared",
    "pride": "proud",
    "sadness": "sad", "unhappy": "sad", "sorrow": "sad",
    "sentiment": "sentimental",
    "surprise": "surprised", "surprising": "surprised", "shocked": "surprised",
    "terror": "terrified", "terrifying": "terrified",
    "trust": "trusting", "trusted": "trusting",
}  # fmt: skip

_NONE_PATTERNS = re.compile(r"\bnone\b|\bno(?:ne)? of (?:these|them|the above)\b|\bneither\b")
_WORD = re.compile(r"[a-z]+")


def canonical_label(word: str) -> str | None:
    """Map one word (any case, inflected or aliased) to its ED label, or None."""
    word = word.lower()
    if word in _LABEL_SET:
        return word
    return _ALIASES.get(word)


def find_labels(text: str, allowed: tuple[str, ...] | list[str] = EMOTIONS) -> list[str]:
    """Return the allowed labels named in ``text``, in order of first mention, without repeats."""
    allowed_set = set(allowed)
    found: list[str] = []
    for word in _WORD.findall(text.lower()):
        label = canonical_label(word)
        if label is not None and label in allowed_set and label not in found:
            found.append(label)
    return found


def parse_emotion(text: str, allowed: tuple[str, ...] | list[str] = EMOTIONS) -> str | None:
    """Read the label an LLM answer chose among ``allowed``.

    An answer of the form "Emotion: X" wins; otherwise the first allowed label named counts.
    Returns None when the answer names no allowed label (or only says "none").
    """
    lowered = text.lower()
    tagged = re.search(r"emotion\s*[:：]\s*([a-z]+)", lowered)
    if tagged:
        label = canonical_label(tagged.group(1))
        if label is not None and label in allowed:
            return label
    labels = find_labels(lowered, allowed)
    return labels[0] if labels else None


def says_none(text: str) -> bool:
    """Tell whether an answer rejects every candidate ("none of these", "neither")."""
    return bool(_NONE_PATTERNS.search(text.lower()))


_LABEL_SET = frozenset(EMOTIONS)


Valence = Literal["positive", "negative", "ambiguous"]
VALENCE: dict[str, Valence] = {
    **dict.fromkeys(("afraid", "angry", "annoyed", "anxious", "apprehensive", "ashamed", "devastated",
                     "disappointed", "disgusted", "embarrassed", "furious", "guilty", "jealous", "lonely", "sad",
                     "terrified"), "negative"),
    **dict.fromkeys(("caring", "confident", "content", "excited", "faithful", "grateful", "hopeful", "impressed",
                     "joyful", "prepared", "proud", "trusting"), "positive"),
    **dict.fromkeys(("anticipating", "nostalgic", "sentimental", "surprised"), "ambiguous"),
}  # fmt: skip
"""Each label's valence: whether the news behind it is good or bad for the speaker. 'ambiguous' labels
(anticipating, nostalgic, sentimental, surprised) go either way in ED: a surprise party and a surprise bill
share one label, so they say nothing about whether to rejoice or console."""


Move = Literal["celebrate", "share_joy", "look_ahead", "reassure", "comfort", "side_with", "ease", "reminisce",
               "wonder"]  # fmt: skip
"""What a good listener does for a family of emotions (a note names the move, never the emotion)."""
LISTENER_MOVE: dict[str, Move] = {
    **dict.fromkeys(("proud", "confident"), "celebrate"),
    **dict.fromkeys(("joyful", "content", "grateful", "impressed", "trusting", "caring", "faithful"), "share_joy"),
    **dict.fromkeys(("anticipating", "excited", "hopeful", "prepared"), "look_ahead"),
    **dict.fromkeys(("afraid", "terrified", "anxious", "apprehensive"), "reassure"),
    **dict.fromkeys(("sad", "devastated", "lonely", "disappointed"), "comfort"),
    **dict.fromkeys(("angry", "furious", "annoyed", "disgusted", "jealous"), "side_with"),
    **dict.fromkeys(("ashamed", "embarrassed", "guilty"), "ease"),
    **dict.fromkeys(("nostalgic", "sentimental"), "reminisce"),
    "surprised": "wonder",
}  # fmt: skip
"""Each label's listener move. Labels that call for the same reply share a move, so the SEM's mass over a
move's labels is surer than its top label: the SEM often confuses afraid with anxious, but both want
reassurance. Written for this project from the labels' meanings in ED, not learnt."""
