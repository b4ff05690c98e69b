"""Turn an LLM's raw text into the reply a person reads (the graph's reply node and `hef eval`'s LLM alone)."""

from __future__ import annotations

import re

_ROLE_PREFIX = re.compile(r"^\s*(listener|speaker|assistant|reply|response)\s*:\s*", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_NEXT_TURN = re.compile(r"\n\s*(speaker|user|listener)\s*:", re.IGNORECASE)
_COMMENTARY = re.compile(r"\n\s*(the speaker|the listener|note|notes)\b", re.IGNORECASE)
_WHOLE = re.compile(r"[.!?][\"')\]]*$")


def clean_reply(text: str, max_sentences: int = 2) -> str:
    """Strip role prefixes, quotes, commentary and any turn written for the other speaker; keep whole sentences.

    Small LLMs drift after a sentence or two, so the reply keeps at most ``max_sentences``; a sentence cut by
    the length cap is dropped unless it is all there is.
    """
    text = _NEXT_TURN.split(text, maxsplit=1)[0]
    text = _COMMENTARY.split(text, maxsplit=1)[0]
    text = _ROLE_PREFIX.sub("", text.strip().strip('"')).strip().strip('"').strip()
    sentences = [s.strip() for s in _SENTENCE_END.split(" ".join(text.split())) if s.strip()]
    whole = [s for s in sentences if _WHOLE.search(s)]
    kept = whole[:max_sentences] if whole else sentences[:1]
    return " ".join(kept)
