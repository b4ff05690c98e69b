"""Crisis detection: messages expressing suicidal intent or self-harm go to a safe reply, not the LLM.

The signal is a documented pattern list (no network, no model download), with negations ("I would never
kill myself") and idioms ("this homework is killing me") left out, plus the SEM's reading for softer
phrasings ("I can't go on") that only count when the SEM also reads strong sadness or despair.
A sentence that reports someone else's suicide ("my sister died by suicide six years ago") is such a
softer signal: grief is not intent, but a bereaved person in despair still gets the safe reply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Explicit statements of suicidal intent or self-harm: enough on their own unless negated.
EXPLICIT_PATTERNS = [
    r"\b(kill|killing|hurt|hurting|harm|harming|cut|cutting|starve|starving)\s+myself\b",
    r"\b(end|ending|take|taking)\s+my\s+(own\s+)?life\b",
    r"\bsuicidal\b",
    r"\b(want|wanna|going|plan|planning)\s+(to\s+)?die\b(?!\s+(of|from|laughing))",
    r"\bwish\s+(i\s+was|i\s+were|to\s+be)\s+dead\b",
    r"\bbetter\s+off\s+dead\b",
    r"\bself[-\s]?harm(ing)?\b",
    r"\boverdos(e|ing)\b",
    r"\bend\s+it\s+all\b",
    r"\bno\s+reason\s+to\s+(live|go\s+on)\b",
    r"\bdon'?t\s+want\s+to\s+(live|be\s+alive|wake\s+up)\b",
]
# Softer phrasings: they count only when the SEM also reads despair (see DESPAIR_LABELS).
SOFT_PATTERNS = [
    r"\bcan'?t\s+(go\s+on|take\s+(it|this)\s+any\s*more|do\s+this\s+any\s*more)\b",
    r"\b(nothing|no\s+point)\s+(matters|in\s+living|anymore)\b",
    r"\bgive\s+up\s+on\s+(everything|life)\b",
    r"\bdisappear\s+forever\b",
]
SUICIDE = re.compile(r"\bsuicide\b", re.IGNORECASE)
FIRST_PERSON = re.compile(r"\b(i|i'm|im|i've|i'd|i'll|me|myself)\b", re.IGNORECASE)
PEOPLE = (
    "friend|friends|loved one|sister|brother|sibling|mother|mom|mum|father|dad|parent|son|daughter|child|kid|uncle|"
    "aunt|cousin|nephew|niece|grandma|grandmother|grandpa|grandfather|wife|husband|partner|boyfriend|girlfriend|ex|"
    "fiance|fiancee|neighbor|neighbour|classmate|coworker|co-worker|colleague|boss|teacher|student|relative|"
    "celebrity|singer|actor|actress|man|woman|guy|girl|boy|person"
)
SOMEONE_ELSE = re.compile(rf"\b(he|she|they|someone|somebody|anyone|{PEOPLE})\b", re.IGNORECASE)
SENTENCE = re.compile(r"[^.!?]+[.!?]*")
NEGATION = re.compile(r"\b(never|not|no|won'?t|wouldn'?t|don'?t|didn'?t|isn'?t|wasn'?t|nobody)\b[^.!?]{0,20}$")
DESPAIR_LABELS = ("devastated", "sad", "lonely", "afraid", "terrified", "ashamed", "guilty")
DESPAIR_THRESHOLD = 0.6

_EXPLICIT = [re.compile(p, re.IGNORECASE) for p in EXPLICIT_PATTERNS]
_SOFT = [re.compile(p, re.IGNORECASE) for p in SOFT_PATTERNS]


def _matches(patterns: list[re.Pattern[str]], text: str, check_negation: bool) -> bool:
    for pattern in patterns:
        for match in pattern.finditer(text):
            before = text[: match.start()].lower()
            if check_negation and NEGATION.search(before) and not match.group().lower().startswith("don"):
                continue
            return True
    return False


def _suicide_mentions(text: str) -> tuple[bool, bool]:
    """(own, reported): whether a sentence speaks of suicide about the writer, or only reports another's.

    A report names another person and has no first-person pronoun ("Have you ever had a friend commit
    suicide?"); any other mention that is not negated ("Been thinking about suicide") counts as the writer's.
    """
    own = reported = False
    for sentence in SENTENCE.findall(text):
        if not _matches([SUICIDE], sentence, check_negation=True):
            continue
        if SOMEONE_ELSE.search(sentence) and not FIRST_PERSON.search(sentence):
            reported = True
        else:
            own = True
    return own, reported


def is_crisis(text: str, distribution: Mapping[str, float] | None = None) -> bool:
    """Tell whether a user's message expresses suicidal intent or self-harm."""
    own_suicide, reported_suicide = _suicide_mentions(text)
    if own_suicide or _matches(_EXPLICIT, text, check_negation=True):
        return True
    despair = sum((distribution or {}).get(label, 0.0) for label in DESPAIR_LABELS)
    return despair >= DESPAIR_THRESHOLD and (reported_suicide or _matches(_SOFT, text, check_negation=True))
