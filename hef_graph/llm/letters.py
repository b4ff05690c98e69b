"""Judging by lettered options: each candidate is a letter, scored by its log-probability as the answer's first token.

Backends that can read one token's log-probabilities (an OpenAI-compatible server, llama.cpp in process)
score emotion judgements this way, and the pairwise reply judge asks them for "A" or "B" the same way.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import BaseMessage

from hef_graph.judging import JudgementRequest
from hef_graph.llm.runtime import LLMRuntime

LETTERS = string.ascii_uppercase


class LetterScoringRuntime(LLMRuntime):
    """A runtime that scores lettered options; subclasses say how they read the first token's log-probabilities."""

    def letter_log_probs(self, messages: Sequence[BaseMessage], letters: Sequence[str]) -> dict[str, float]:
        """Return log P(first answer token = letter) for each letter; raise NoLogProbabilities if unreadable."""
        raise NotImplementedError

    def option_log_likelihoods(self, request: JudgementRequest) -> dict[str, float]:
        """Score the candidates as lettered options (at most 26, those the SEM finds most likely)."""
        options = lettered_options(request.candidates, request.prior)
        letters = self.letter_log_probs(request.lettered_messages(options), list(options))
        return {label: letters[letter] for letter, label in options.items()}


def lettered_options(candidates: Sequence[str], prior: Mapping[str, float]) -> dict[str, str]:
    """Letter the candidates in their order; past 26, only the 26 the SEM finds most likely are offered.

    A candidate left out could only win against a prior many times larger than its own.
    """
    kept = set(sorted(candidates, key=lambda c: -prior[c])[: len(LETTERS)])
    return dict(zip(LETTERS, [c for c in candidates if c in kept], strict=False))


def letters_from_top_logprobs(top_logprobs: Sequence[Mapping[str, Any]], letters: Sequence[str]) -> dict[str, float]:
    """Each letter's log-probability from a server's top tokens (variants such as ' A' or 'A.' summed).

    A letter missing from the returned tokens gets an upper bound: no more than the least likely returned
    token, nor than the mass the returned tokens leave.
    """
    mass: dict[str, float] = {}
    returned = 0.0
    for entry in top_logprobs:
        probability = math.exp(float(entry["logprob"]))
        returned += probability
        letter = str(entry["token"]).strip().rstrip(".):").upper()
        if letter in letters:
            mass[letter] = mass.get(letter, 0.0) + probability
    lowest = min(math.exp(float(entry["logprob"])) for entry in top_logprobs)
    bound = max(min(lowest, 1.0 - returned), 1e-12)  # an unreturned token is no likelier than either
    return {letter: math.log(mass.get(letter, bound)) for letter in letters}
