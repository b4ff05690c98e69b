"""Turn an LLM's raw text into the reply a person reads (the graph's reply node and `hef eval`'s LLM alone)."""

from __future__ import annotations

import re

_ROLE_PREFIX = re.compile(r"^\s*(listener|speaker|assistant|reply|response)\s*:\s*", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_NEXT_TURN = re.compile(r"\n\s*(speaker|user|listener)\s*:", re.IGNORECASE)
_COMMENTARY = re.compile(r"\n\s*(the speaker|the listener|note|notes)\b", re.IGNORECASE)
_WHOLE = re.compile(r"[.!?][\"')\]]*$")
_MORE = "\x00"
"""Stands for text still to come: no regex here reads it as space, punctuation or part of a word."""


REPLY_SENTENCES = 2
"""Sentences a reply keeps: small LLMs drift after a sentence or two."""


def clean_reply(text: str, max_sentences: int = REPLY_SENTENCES) -> str:
    """Strip role prefixes, quotes, commentary and any turn written for the other speaker; keep whole sentences.

    The reply keeps at most ``max_sentences``; a sentence cut by the length cap is dropped unless it is all
    there is.
    """
    sentences = _sentences(text)
    whole = [s for s in sentences if _WHOLE.search(s)]
    kept = whole[:max_sentences] if whole else sentences[:1]
    return " ".join(kept)


def reply_is_settled(text: str, max_sentences: int = REPLY_SENTENCES) -> bool:
    """Whether ``clean_reply`` can no longer change however the text goes on, so generation may stop here.

    The text is read as if more followed (a mark that is neither space, punctuation nor a letter), and the
    last segment, which that mark belongs to, may still grow; the reply is settled once ``max_sentences``
    whole sentences lie before it. tests/test_replies.py checks this on random texts.
    """
    final = _sentences(text + _MORE)[:-1]
    return sum(1 for sentence in final if _WHOLE.search(sentence)) >= max_sentences


def _head(text: str) -> str:
    """The text before any turn written for the other speaker or any commentary."""
    return _COMMENTARY.split(_NEXT_TURN.split(text, maxsplit=1)[0], maxsplit=1)[0]


def _sentences(text: str) -> list[str]:
    """The head's sentences, without a role prefix or enclosing quotes."""
    head = _ROLE_PREFIX.sub("", _head(text).strip().strip('"')).strip().strip('"').strip()
    return [s.strip() for s in _SENTENCE_END.split(" ".join(head.split())) if s.strip()]
