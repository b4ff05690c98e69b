"""Judging by scoring: the prior/likelihood combination, and the real scorer on the embedded LLM."""

import math
import random

import pytest
from langchain_core.messages import HumanMessage
from langgraph.runtime import Runtime

from hef_graph import Context, as_runtime
from hef_graph.judging import JudgementRequest, combine, stage_one_prior
from hef_graph.labels import NONE_OF_THESE
from hef_graph.llm.runtime import CallPolicy, Capabilities, LLMRuntime
from hef_graph.nodes.judge_primary import judge_primary
from tests.conftest import ScriptedSEM, ScriptedTagger, ask_the_llm, fake_llm


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


def test_a_capped_llm_cannot_overturn_a_settled_judgement():
    """Whenever the SEM's margin settles a request, every LLM answer leaves the same choice (the skip is exact)."""
    rng = random.Random(0)
    settled = 0
    for _ in range(2000):
        labels = ["sad", "lonely", "angry", NONE_OF_THESE]
        raw = [rng.random() ** 3 for _ in labels]
        prior = {label: value / sum(raw) for label, value in zip(labels, raw, strict=True)}
        weight, cap = rng.choice([0.0, 0.2, 1.0]), rng.choice([1.0, 4.0])
        request = JudgementRequest(stage="primary", dialogue="Speaker: hi", prior=prior, llm_weight=weight,
                                   log_ratio_cap=cap)  # fmt: skip
        choice = request.settled_choice()
        if choice is None:
            continue
        settled += 1
        assert choice == max(prior, key=prior.get)
        for _ in range(5):  # an LLM as opposed to the SEM as it can be
            likelihoods = {label: -rng.expovariate(0.05) for label in labels}
            posterior = combine(prior, likelihoods, request.llm_weight, request.log_ratio_cap)
            assert max(posterior, key=posterior.get) == choice
    assert 200 < settled < 1800  # both kinds of request occurred


def test_an_uncapped_llm_can_overturn_any_margin_but_a_capped_one_cannot():
    prior = {"sad": 0.9, "lonely": 0.1}
    likelihoods = {"sad": -30.0, "lonely": 0.0}
    uncapped_posterior = combine(prior, likelihoods, 0.2)
    capped_posterior = combine(prior, likelihoods, 0.2, cap=4.0)
    assert max(uncapped_posterior, key=uncapped_posterior.get) == "lonely"
    assert max(capped_posterior, key=capped_posterior.get) == "sad"
    uncapped = JudgementRequest(stage="primary", dialogue="Speaker: hi", prior=prior, llm_weight=0.2)
    assert uncapped.settled_choice() is None
    assert JudgementRequest(stage="primary", dialogue="x", prior=prior, llm_weight=0.0).settled_choice() == "sad"


def test_a_settled_judgement_does_not_ask_the_llm():
    asked: list[str] = []

    class Scoring(LLMRuntime):
        capabilities = Capabilities(score_labels=True, stream=False, reuse_prefix=False)

        def option_log_likelihoods(self, request):
            asked.append(request.stage)
            return {label: 0.0 for label in request.candidates}

    runtime = Scoring(fake_llm("x"))
    close = {"sad": 0.5, "lonely": 0.4, NONE_OF_THESE: 0.1}
    wide = {"sad": 0.9, "lonely": 0.05, NONE_OF_THESE: 0.05}  # log(0.9 / 0.05) = 2.9 > 0.2 x 4
    for prior, method in ((close, "scored"), (wide, "settled")):
        request = JudgementRequest(stage="primary", dialogue="Speaker: hi", prior=prior, llm_weight=0.2,
                                   log_ratio_cap=4.0)  # fmt: skip
        judgement = runtime.judge(request, CallPolicy())
        assert judgement["method"] == method and judgement["choice"] == "sad"
    assert asked == ["primary"]  # only the close call was put to the LLM


def test_stage_one_settled_by_the_sem_keeps_its_top1_and_goes_on_to_the_causes():
    class Refusing(LLMRuntime):
        capabilities = Capabilities(score_labels=True, stream=False, reuse_prefix=False)

        def option_log_likelihoods(self, request):
            raise AssertionError("a settled judgement must not reach the LLM")

    state = {"dialogue": ["My dog died."], "primary_emotions": ["devastated", "sad", "lonely"],
             "sem_distribution": {"devastated": 0.8, "sad": 0.1, "lonely": 0.05, "angry": 0.05}}  # fmt: skip
    runtime = Runtime(context=Context(llm=Refusing(fake_llm("x")), sem=ScriptedSEM(), cause_tagger=ScriptedTagger()))
    update = judge_primary(state, runtime)
    assert update["emotion"] == "devastated" and update["emotion_stage"] == "primary"
    assert update["judgements"][0]["method"] == "settled" and update["judgements"][0]["choice"] == "devastated"


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

    graph = build_graph(llm=real_llm, sem=real_sem)
    out = graph.invoke({"messages": [("user", "I passed my exam!")]}, context=ask_the_llm())
    first = out["judgements"][0]
    assert first["method"] == "scored" and first["stage"] == "primary" and first["choice"] in first["candidates"]
    assert set(first["scores"]) == set(first["candidates"]) and sum(first["scores"].values()) == pytest.approx(
        1.0, abs=1e-4
    )
