"""HEF's emotion judgements as typed records: what was asked, how it was answered, what was chosen.

The LLM runtime answers a ``JudgementRequest`` either by scoring the candidates with log-probabilities
(combined with the SEM prior, a product of experts ``p_sem * p_llm ** weight``, so a weak LLM can refine
but not wreck the SEM) or by generating an answer that is parsed against the candidates. The LLM's
log-likelihood ratios are capped, which bounds how far it can move the SEM: where the SEM's margin is wider
than that bound, no LLM answer could change the choice, so the judgement is settled without asking.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypedDict

from langchain_core.messages import BaseMessage

from hef_graph.labels import NONE_OF_THESE, parse_emotion, says_none
from hef_graph.prompting import judgement_messages, lettered_judgement_messages
from hef_graph.ranking import RankedAnswer, combine_ranked, parse_ranked

JudgementStage = Literal["primary", "fallback", "alone", "ranked"]
JudgementMethod = Literal["scored", "settled", "generated", "failed"]
JudgementDesign = Literal["staged", "ranked", "alone", "sem"]
"""How the LLM takes part in the emotion judgement: 'staged' (HEF's: stage one over the SEM's top-k, then
stage two over the rest), 'ranked' (its own top three over all labels with confidences, combined with the
SEM's distribution afterwards, ``hef_graph.ranking``), 'alone' (it chooses among all labels; the SEM is
neither shown nor used) or 'sem' (it is not asked: the SEM's top-1 stands)."""
PROMPT_OF_STAGE = {"primary": "judge_primary", "fallback": "judge_fallback", "alone": "judge_fallback",
                   "ranked": "judge_ranked"}  # fmt: skip
RANKED_MAX_NEW_TOKENS = 48
"""Room for a ranked answer (three labels with their confidences)."""
PRIOR_FLOOR = 1e-9
"""The smallest prior probability a candidate is given (its log must stay finite)."""
LETTERED_PROMPT_OF_STAGE = {"primary": "judge_primary_lettered", "fallback": "judge_lettered",
                            "alone": "judge_lettered"}  # fmt: skip
"""Prompts with lettered options (backends that score one answer token). Stage one runs every turn, so its
prompt is short and opens with the reply task's first words, which the reply then need not read again."""


@dataclass(frozen=True)
class JudgementRequest:
    """One question to the LLM: which of the candidates (the keys of ``prior``) fits the dialogue.

    ``prior`` is the SEM's probability of each candidate ('none' too in stage one); ``method`` is
    'score', 'generate' or 'auto' (score when the runtime can). A ranked request is always generated, and
    its answer is combined with the prior at ``llm_weight`` with the LLM's distribution floored at
    ``rank_floor``.
    """

    stage: JudgementStage
    dialogue: str
    prior: Mapping[str, float]
    llm_weight: float = 0.1
    log_ratio_cap: float = math.inf
    """The most the LLM's log-likelihood ratio of two candidates counts, in nats before the weight."""
    method: Literal["auto", "score", "generate"] = "auto"
    rank_floor: float = 0.01
    max_new_tokens: int = 8
    repetition_penalty: float = 1.3

    def __post_init__(self) -> None:
        """A ranked answer is text to parse, never a label to score."""
        if self.stage == "ranked" and self.method == "score":
            raise ValueError("a ranked judgement is generated; method='score' cannot answer it")

    @property
    def scorable(self) -> bool:
        """Whether the request may be answered by scoring the candidates (where the runtime can)."""
        return self.method != "generate" and self.stage != "ranked"

    @property
    def candidates(self) -> list[str]:
        """The labels the LLM may choose, in the order it is shown them."""
        return list(self.prior)

    def settled_choice(self) -> str | None:
        """The SEM's best candidate when no scored LLM answer could displace it, else None.

        The LLM moves a candidate's log-score by at most ``llm_weight * log_ratio_cap`` against another, so a
        prior whose best candidate leads every other by more than that decides alone (at weight 0, always).
        """
        log_prior = floored_log_prior(self.prior)
        best = max(log_prior, key=log_prior.__getitem__)
        others = [v for label, v in log_prior.items() if label != best]
        reach = self.llm_weight * self.log_ratio_cap if self.llm_weight else 0.0  # 0 x inf would be nan
        return best if not others or log_prior[best] - max(others) > reach else None

    def messages(self) -> list[BaseMessage]:
        """The stage's prompt naming the candidates; it starts like the reply's, so a local model reuses the prefill."""
        return judgement_messages(PROMPT_OF_STAGE[self.stage], self.dialogue, self.candidates)

    def lettered_messages(self, options: Mapping[str, str]) -> list[BaseMessage]:
        """The stage's prompt offering ``options`` (letter -> candidate), each answer one token to score."""
        return lettered_judgement_messages(LETTERED_PROMPT_OF_STAGE[self.stage], self.dialogue, options)


class Judgement(TypedDict):
    """One judgement as the state keeps it (a plain dict, so every checkpointer and the server can store it)."""

    stage: JudgementStage
    candidates: list[str]
    scores: dict[str, float]
    """Posterior per candidate when scored (SEM prior x LLM likelihood), else empty."""
    choice: str | None
    """The chosen candidate ('none' in stage one when nothing fits), or None when the answer was unusable."""
    method: JudgementMethod
    answer: str
    """The LLM's generated text ('' when scored)."""
    error: str | None
    """Why the judgement failed, why it was generated although scoring was asked for, or which candidates
    a scoring backend could not offer; None when there is nothing to say."""


def scored_judgement(
    request: JudgementRequest, log_likelihoods: Mapping[str, float], note: str | None = None
) -> Judgement:
    """The record of a scored judgement: the posterior over the candidates and its best label."""
    posterior = combine(request.prior, log_likelihoods, request.llm_weight, request.log_ratio_cap)
    choice = max(posterior, key=posterior.__getitem__)
    scores = {label: round(p, 6) for label, p in posterior.items()}
    return Judgement(stage=request.stage, candidates=request.candidates, scores=scores, choice=choice,
                     method="scored", answer="", error=note)  # fmt: skip


def settled_judgement(request: JudgementRequest, choice: str) -> Judgement:
    """The record of a judgement the SEM's margin decided; the LLM was not asked."""
    return Judgement(stage=request.stage, candidates=request.candidates, scores={}, choice=choice,
                     method="settled", answer="", error=None)  # fmt: skip


def generated_judgement(request: JudgementRequest, text: str, note: str | None = None) -> Judgement:
    """The record of a generated answer, parsed against the candidates ('none' only where offered)."""
    if request.stage == "ranked":
        return ranked_judgement(request, text, note)
    labels = [c for c in request.candidates if c != NONE_OF_THESE]
    choice = parse_emotion(text, labels)
    if choice is None and NONE_OF_THESE in request.prior and says_none(text):
        choice = NONE_OF_THESE
    return Judgement(stage=request.stage, candidates=request.candidates, scores={}, choice=choice,
                     method="generated", answer=text, error=note)  # fmt: skip


def ranked_judgement(request: JudgementRequest, text: str, note: str | None = None) -> Judgement:
    """The record of a ranked answer: the posterior of the SEM prior and the LLM's own top three.

    An answer that names no label leaves no choice (the SEM's reading stands); what was wrong with an answer
    the graph could still use is kept in ``error``.
    """
    answer = parse_ranked(text, request.candidates)
    problems = [note] if note else []
    problems += answer.problems
    if not answer.usable:
        return Judgement(stage="ranked", candidates=request.candidates, scores={}, choice=None, method="generated",
                         answer=text, error="; ".join(problems))  # fmt: skip
    posterior = ranked_posterior(request.prior, answer, request.llm_weight, request.rank_floor)
    return Judgement(stage="ranked", candidates=request.candidates, choice=max(posterior, key=posterior.__getitem__),
                     scores={label: round(p, 6) for label, p in posterior.items()}, method="generated",
                     answer=text, error="; ".join(problems) or None)  # fmt: skip


def ranked_posterior(prior: Mapping[str, float], answer: RankedAnswer, weight: float, floor: float) -> dict[str, float]:
    """The SEM prior combined with a ranked answer's own distribution (``hef_graph.ranking``)."""
    return combine_ranked(floored_log_prior(prior), answer, weight, floor)


def failed_judgement(request: JudgementRequest, error: Exception) -> Judgement:
    """The record of a judgement the LLM could not give; the SEM's reading stands."""
    return Judgement(stage=request.stage, candidates=request.candidates, scores={}, choice=None,
                     method="failed", answer="", error=f"{type(error).__name__}: {error}")  # fmt: skip


def combine(
    prior: Mapping[str, float], log_likelihoods: Mapping[str, float], weight: float, cap: float = math.inf
) -> dict[str, float]:
    """Posterior over candidates from the SEM prior and the LLM likelihood raised to ``weight``.

    No candidate's log-likelihood counts as more than ``cap`` below the best one's.
    """
    top = max(log_likelihoods.values())
    capped = {c: max(v, top - cap) for c, v in log_likelihoods.items()}
    normaliser = top + math.log(sum(math.exp(v - top) for v in capped.values()))
    log_prior = floored_log_prior(prior)
    scores = {c: log_prior[c] + weight * (capped[c] - normaliser) for c in capped}
    best = max(scores.values())
    total = sum(math.exp(s - best) for s in scores.values())
    return {c: math.exp(s - best) / total for c, s in scores.items()}


def floored_log_prior(prior: Mapping[str, float]) -> dict[str, float]:
    """Each candidate's log prior, floored at ``PRIOR_FLOOR``; settling and combining must read the same one."""
    return {label: math.log(max(p, PRIOR_FLOOR)) for label, p in prior.items()}


def stage_one_prior(distribution: Mapping[str, float], primary: Sequence[str]) -> dict[str, float]:
    """SEM prior for stage one: each primary label's probability; 'none' gets that of the best other label.

    'None' stands for whichever label stage two would pick, so it competes as one label, not as the summed
    mass of 32 - k labels (which would beat a confident top-1 and send good answers to stage two). With an
    LLM weight of 0 the decision is then exactly the SEM's top-1.
    """
    prior = {label: distribution[label] for label in primary}
    prior[NONE_OF_THESE] = max((p for label, p in distribution.items() if label not in prior), default=PRIOR_FLOOR)
    return prior


def describe(judgement: Judgement) -> str:
    """One line for tables and logs: the method and the answer or the top scores."""
    if judgement["method"] == "failed":
        return f"failed ({judgement['error']})"
    if judgement["method"] == "settled":
        return f"settled by the SEM's margin -> {judgement['choice']}"
    if judgement["method"] == "generated":
        return f"generated {judgement['answer']!r} -> {judgement['choice']}"
    ranked = sorted(judgement["scores"].items(), key=lambda item: -item[1])
    return "scored: " + ", ".join(f"{label} {p:.2f}" for label, p in ranked[:6])
