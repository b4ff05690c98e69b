"""Word segmentation of a dialogue and the stopword list used for cause words."""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass

TURN_SEPARATOR = " [SEP] "
"""How turns are joined into one encoder input; BERT tokenizers read ``[SEP]`` as the special token."""

_WORD_PATTERN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")

STOPWORDS: frozenset[str] = frozenset(
    """a about above after again against all am an and any are aren't as at be because been before being below
    between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each
    few for from further had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers herself
    him himself his how how's i i'd i'll i'm i've if in into is isn't it it's its itself just let's me more most
    mustn't my myself no nor not of off on once only or other ought our ours ourselves out over own same shan't she
    she'd she'll she's should shouldn't so some such than that that's the their theirs them themselves then there
    there's these they they'd they'll they're they've this those through to too under until up very was wasn't we
    we'd we'll we're we've were weren't what what's when when's where where's which while who who's whom why why's
    will with won't would wouldn't you you'd you'll you're you've your yours yourself yourselves also really got
    get gets getting go going went one yeah yes oh ok okay well much many lot im dont ive its thats theyre youre
    s t ll re ve d m like just still even ever would could""".split()
)


@dataclass(frozen=True)
class WordSpan:
    """A word of the dialogue: its text, its turn and its character span inside that turn."""

    text: str
    turn: int
    start: int
    end: int


@dataclass(frozen=True)
class JoinedDialogue:
    """A dialogue joined into one string, remembering where each turn starts."""

    text: str
    turn_starts: tuple[int, ...]
    words: tuple[WordSpan, ...]

    def word_at(self, char_start: int) -> int | None:
        """Return the index of the word holding a character of the joined text, if any."""
        index = bisect.bisect_right(self._word_starts, char_start) - 1
        if index < 0:
            return None
        word = self.words[index]
        end = self.turn_starts[word.turn] + word.end
        return index if char_start < end else None

    def turn_at(self, char_start: int) -> int:
        """Return the index of the turn a character of the joined text belongs to (a separator: the turn before)."""
        return bisect.bisect_right(self.turn_starts, char_start) - 1

    @functools.cached_property
    def _word_starts(self) -> list[int]:
        return [self.turn_starts[w.turn] + w.start for w in self.words]


def join_dialogue(turns: list[str] | tuple[str, ...]) -> JoinedDialogue:
    """Join turns with the separator and segment every turn into words."""
    pieces, starts, words = [], [], []
    position = 0
    for turn_index, turn in enumerate(turns):
        if turn_index:
            pieces.append(TURN_SEPARATOR)
            position += len(TURN_SEPARATOR)
        starts.append(position)
        pieces.append(turn)
        position += len(turn)
        for match in _WORD_PATTERN.finditer(turn):
            words.append(WordSpan(match.group(), turn_index, match.start(), match.end()))
    return JoinedDialogue("".join(pieces), tuple(starts), tuple(words))


def normal_form(word: str) -> str:
    """The word lower-cased, with a typographic apostrophe made plain (as the stopword list spells it)."""
    return word.lower().replace("’", "'")


def is_content_word(word: str) -> bool:
    """Tell whether a word may be a cause word: not a stopword, not a number, not one letter."""
    lowered = normal_form(word)
    return len(lowered) > 1 and lowered not in STOPWORDS and not lowered.isdigit()
