"""Judging by scoring: the prior/likelihood combination, and the real scorer on the embedded LLM."""

import math

import pytest
from langchain_core.messages import HumanMessage
from langgraph.runtime import Runtime

from hef_graph import Context
from hef_graph.labels import NONE_OF_THESE
from hef_graph.nodes.judge_primary import judge_primary
from hef_graph.scoring import combine, scorer_for, stage_one_prior
from tests.conftest import ScriptedSEM, fake_llm


def test_stage_one_prior_gives_none_the_best_other_label():
    distribution = {"sad": 0.4, "lonely": 0.2, "angry": 0.15, "afraid": 0.13, "proud": 0.12}
    prior = stage_one_prior(distribution, ["sad", "lonely"])
    assert prior == pytest.approx({"sad": 0.4, "lonely": 0.2, NONE_OF_THESE: 0.15})
    # with no LLM weight, stage one keeps the SEM's top-1 even though the other labels sum to more
    posterior = combine(prior, {"sad": -5.0, "lonely": -1.0, NONE_OF_THESE: -0.1}, 0.0)
    assert max(posterior, key=posterior.get) == "sad"


def test_combine_with_zero_weight_is_the_prior_and_weight_moves_it():
    prior = {"a": 0.6, "b": 0.4}
    likelihood = {"a": math.log(0.1), "b": math.log(0.9)}
    assert combine(prior, likelihood, 0.0) == pytest.approx(prior)
    posterior = combine(prior, likelihood, 1.0)
    assert posterior["b"] > posterior["a"]
    assert sum(posterior.values()) == pytest.approx(1.0)


def test_score_mode_needs_an_in_process_model():
    assert scorer_for(fake_llm("x")) is None
    state = {"dialogue": ["I lost my job"], "primary_emotions": ["sad", "lonely", "devastated"],
             "sem_distribution": {"sad": 0.5, "lonely": 0.2, "devastated": 0.1}}  # fmt: skip
    runtime = Runtime(context=Context(llm=fake_llm("sad"), sem=ScriptedSEM(), judgement="score"))
    with pytest.raises(ValueError, match="judgement='score' needs an in-process transformers LLM"):
        judge_primary(state, runtime)
    auto = Runtime(context=Context(llm=fake_llm("sad"), sem=ScriptedSEM()))
    assert judge_primary(state, auto)["emotion"] == "sad"  # auto falls back to generate-and-parse


@pytest.mark.real
def test_real_scorer_prefers_the_label_that_fits(real_llm):
    scorer = scorer_for(real_llm)
    assert scorer is not None
    prompt = [
        HumanMessage("My best friend threw me a surprise party and I loved it. Answer with one word: happy or sad?")
    ]
    scores = scorer.log_likelihoods(prompt, ["happy", "sad"])
    assert scores["happy"] > scores["sad"]
    assert all(v < 0 for v in scores.values())


@pytest.mark.real
def test_scoring_is_the_default_with_the_embedded_llm(real_llm, real_sem):
    from hef_graph import build_graph

    out = build_graph(llm=real_llm, sem=real_sem).invoke({"messages": [("user", "I passed my exam!")]})
    assert out["primary_judgement"].startswith("scored: ")
