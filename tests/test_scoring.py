"""Judging by scoring: the prior/likelihood combination, and the real scorer on the embedded LLM."""

import math

import pytest
from langchain_core.messages import HumanMessage
from langgraph.runtime import Runtime

from hef_graph import Context, as_runtime
from hef_graph.judging import combine, stage_one_prior
from hef_graph.labels import NONE_OF_THESE
from hef_graph.nodes.judge_primary import judge_primary
from tests.conftest import ScriptedSEM, ScriptedTagger, fake_llm


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


def test_score_mode_needs_a_model_with_log_probabilities():
    assert not as_runtime(fake_llm("x")).capabilities.score_labels
    state = {"dialogue": ["I lost my job"], "primary_emotions": ["sad", "lonely", "devastated"],
             "sem_distribution": {"sad": 0.5, "lonely": 0.2, "devastated": 0.1}}  # fmt: skip
    runtime = Runtime(
        context=Context(
            llm=as_runtime(fake_llm("sad")), sem=ScriptedSEM(), cause_tagger=ScriptedTagger(), judgement="score"
        )
    )
    with pytest.raises(ValueError, match="judgement='score' needs an LLM that gives log-probabilities"):
        judge_primary(state, runtime)
    auto = Runtime(context=Context(llm=as_runtime(fake_llm("sad")), sem=ScriptedSEM(), cause_tagger=ScriptedTagger()))
    update = judge_primary(state, auto)  # auto falls back to generate-and-parse
    assert update["emotion"] == "sad" and update["judgements"][0]["method"] == "generated"


@pytest.mark.real
def test_cached_batched_scores_equal_a_plain_forward_pass(real_llm):
    import torch

    scorer = real_llm.scorer
    prompt = [HumanMessage("My best friend threw me a surprise party. Which emotion: happy, sad, apprehensive?")]
    scores = scorer.log_likelihoods(prompt, ["happy", "sad", "apprehensive"])
    prefix = scorer.tokenizer.apply_chat_template(
        [{"role": "user", "content": prompt[0].content}], tokenize=False, add_generation_prompt=True
    )
    prefix_ids = scorer.tokenizer(prefix, add_special_tokens=False).input_ids
    for label, score in scores.items():
        label_ids = scorer.tokenizer(label.capitalize(), add_special_tokens=False).input_ids
        with torch.inference_mode():
            logits = scorer.model(torch.tensor([prefix_ids + label_ids])).logits[0].float()
        log_probs = torch.log_softmax(logits[len(prefix_ids) - 1 : -1], -1)
        expected = log_probs.gather(-1, torch.tensor(label_ids)[:, None]).sum().item()
        assert score == pytest.approx(expected, abs=1e-3)
        assert score < 0


@pytest.mark.real
def test_scoring_is_the_default_with_the_embedded_llm(real_llm, real_sem):
    from hef_graph import build_graph

    out = build_graph(llm=real_llm, sem=real_sem).invoke({"messages": [("user", "I passed my exam!")]})
    first = out["judgements"][0]
    assert first["method"] == "scored" and first["stage"] == "primary" and first["choice"] in first["candidates"]
    assert set(first["scores"]) == set(first["candidates"]) and sum(first["scores"].values()) == pytest.approx(
        1.0, abs=1e-4
    )
