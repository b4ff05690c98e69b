"""The ranked judgement design: parsing the LLM's own top three, combining it with the SEM, and the graph's use."""

import math
from dataclasses import replace

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.runtime import Runtime

from hef_graph import Context, as_runtime, build_graph
from hef_graph.judging import JudgementRequest, ranked_posterior
from hef_graph.labels import EMOTIONS
from hef_graph.llm.runtime import LLMRuntime
from hef_graph.nodes.check_input import check_input
from hef_graph.nodes.detect_emotion import detect_emotion
from hef_graph.nodes.judge_primary import judge_primary, route_after_primary
from hef_graph.ranking import RankedAnswer, combine_ranked, own_distribution, parse_ranked
from tests.conftest import ScriptedSEM, ScriptedTagger, fake_llm

DIALOGUE = ["My dog died this morning.", "Oh no, I am so sorry.", "I keep expecting him at the door."]


def test_parse_reads_label_confidence_entries_in_the_usual_forms():
    for text in ("lonely 0.6; sad 0.3; devastated 0.1", "1. lonely (0.6)\n2. sad: 0.3\n3. devastated - 0.1",
                 "lonely 60%, sad 30%, devastated 10%"):  # fmt: skip
        answer = parse_ranked(text)
        assert answer == RankedAnswer(("lonely", "sad", "devastated"), (0.6, 0.3, 0.1), ()), text


def test_parse_reports_what_is_not_as_asked():
    assert parse_ranked("lonely 0.7; sad 0.6; angry 0.1").problems == ("the confidences sum to 1.40, more than 1",)
    assert (
        "'happy' is not a label as written (read as 'joyful')" in parse_ranked("happy 0.5; sad 0.3; angry 0.1").problems
    )
    assert parse_ranked("sad 0.2; lonely 0.5; angry 0.1").problems == (
        "the labels are not ranked best first by their confidences",
    )
    missing = parse_ranked("lonely; sad 0.3")
    assert missing.labels == ("sad",) and "'lonely' is not 'label confidence'" in missing.problems
    assert "1 labels read, 3 asked" in missing.problems
    assert parse_ranked("moody 0.5; sad 0.3; angry 0.1").problems[0] == "'moody' is not one of the labels"
    assert not parse_ranked("I cannot tell").usable


def test_own_distribution_puts_stated_confidences_on_named_labels_and_the_rest_above_the_floor():
    labels = ["sad", "lonely", "angry", "proud"]
    answer = RankedAnswer(("sad", "lonely"), (0.5, 0.3), ())
    q = own_distribution(answer, floor=0.01, labels=labels)
    assert q == pytest.approx({"sad": 0.5, "lonely": 0.3, "angry": 0.1, "proud": 0.1})  # 0.2 unstated, shared
    full = own_distribution(RankedAnswer(("sad", "lonely", "angry"), (0.6, 0.3, 0.1), ()), 0.01, labels)
    assert full == pytest.approx({"sad": 0.6 / 1.01, "lonely": 0.3 / 1.01, "angry": 0.1 / 1.01, "proud": 0.01 / 1.01})
    over = own_distribution(RankedAnswer(("sad", "lonely"), (0.8, 0.4), ()), 0.01, labels)
    assert over["sad"] / over["lonely"] == pytest.approx(2.0) and over["angry"] == over["proud"]


def test_combination_is_the_sems_choice_at_weight_zero_and_moves_to_the_llms_with_weight():
    prior = {"sad": 0.2, "lonely": 0.5, "angry": 0.3}
    log_prior = {label: math.log(p) for label, p in prior.items()}
    answer = RankedAnswer(("sad", "lonely", "angry"), (0.6, 0.3, 0.1), ())
    best = {w: max((p := combine_ranked(log_prior, answer, w, 0.01)), key=p.__getitem__) for w in (0, 1, 2)}
    assert best == {0: "lonely", 1: "lonely", 2: "sad"}  # w=1: 0.12 < 0.15; w=2: 0.072 > 0.045
    posterior = combine_ranked(log_prior, answer, 1.0, 0.01)
    assert posterior["lonely"] == pytest.approx(0.15 / (0.12 + 0.15 + 0.03))
    assert ranked_posterior(prior, answer, 1.0, 0.01) == pytest.approx(posterior)


class RankingRuntime(LLMRuntime):
    """A served LLM that declares the ranked design (as a strong one may, once ED says so)."""

    capabilities = replace(LLMRuntime.capabilities, judgement_design="ranked")


def detected(sem: ScriptedSEM) -> dict:
    state = {"messages": [HumanMessage(DIALOGUE[0]), AIMessage(DIALOGUE[1]), HumanMessage(DIALOGUE[2])]}
    state |= check_input(state, Runtime(context=Context(sem=sem)))
    return state | detect_emotion(state, Runtime(context=Context(sem=sem)))


def test_ranked_design_combines_the_llms_own_ranking_with_the_sem(scripted_sem):
    state = detected(scripted_sem)  # SEM: sad 0.51, lonely 0.26, devastated 0.13
    llm = as_runtime(fake_llm("lonely 0.9; sad 0.05; devastated 0.05"))
    update = judge_primary(state, Runtime(context=Context(llm=llm, sem=scripted_sem, judgement_design="ranked")))
    (judgement,) = update["judgements"]
    assert (judgement["stage"], judgement["method"], judgement["choice"]) == ("ranked", "generated", "lonely")
    assert judgement["candidates"] == list(EMOTIONS) and judgement["error"] is None
    assert (update["emotion"], update["emotion_stage"]) == ("lonely", "ranked")
    assert route_after_primary(state | update) == "perceive_causes"
    at_zero = Context(llm=as_runtime(fake_llm("lonely 0.9; sad 0.05; devastated 0.05")), sem=scripted_sem,
                      judgement_design="ranked", ranked_weight=0.0)  # fmt: skip
    assert judge_primary(state, Runtime(context=at_zero))["emotion"] == "sad"


def test_unusable_ranked_answer_leaves_the_sems_top1_and_skips_stage_two(scripted_sem):
    state = detected(scripted_sem)
    llm = as_runtime(fake_llm("I would say they are upset."))
    update = judge_primary(state, Runtime(context=Context(llm=llm, sem=scripted_sem, judgement_design="ranked")))
    assert update["judgements"][0]["choice"] is None and "emotion" not in update
    assert route_after_primary(state | update) == "perceive_causes"
    assert (state | update)["emotion"] == "sad" and (state | update)["emotion_stage"] == "sem"


def test_ranked_prompt_offers_every_label_in_fixed_order_and_nothing_of_the_sem():
    distribution = dict.fromkeys(EMOTIONS, 0.01) | {"terrified": 0.69}
    request = Context().ranked_request(DIALOGUE, distribution)
    prompt = str(request.messages()[1].content)
    assert ", ".join(EMOTIONS) in prompt and "0.69" not in prompt and "terrified," in prompt
    assert request.method == "generate" and request.max_new_tokens >= 40
    with pytest.raises(ValueError, match="generated"):
        JudgementRequest(stage="ranked", dialogue="x", prior={"sad": 1.0}, method="score")


def test_auto_design_follows_the_runtimes_declared_capability(scripted_sem):
    state = detected(scripted_sem)
    declared = RankingRuntime(fake_llm("sad 0.5; lonely 0.3; devastated 0.1"))
    ranked = judge_primary(state, Runtime(context=Context(llm=declared, sem=scripted_sem)))
    assert ranked["judgements"][0]["stage"] == "ranked"
    staged = judge_primary(state, Runtime(context=Context(llm=as_runtime(fake_llm("lonely")), sem=scripted_sem)))
    assert staged["judgements"][0]["stage"] == "primary"  # every runtime's default: unchanged behaviour
    forced = Context(llm=declared, judgement_design="staged")
    assert forced.judgement_design_for(declared) == "staged"


def test_alone_and_sem_designs(scripted_sem):
    state = detected(scripted_sem)
    alone = judge_primary(state, Runtime(context=Context(llm=as_runtime(fake_llm("Furious.")), sem=scripted_sem,
                                                         judgement_design="alone")))  # fmt: skip
    assert alone["judgements"][0]["stage"] == "alone" and len(alone["judgements"][0]["candidates"]) == len(EMOTIONS)
    assert (alone["emotion"], alone["emotion_stage"]) == ("furious", "alone")
    silent = judge_primary(state, Runtime(context=Context(llm=as_runtime(fake_llm()), sem=scripted_sem,
                                                          judgement_design="sem")))  # fmt: skip
    assert silent == {"judgements": []} and route_after_primary(state | silent) == "perceive_causes"


def test_the_graph_runs_the_ranked_design_end_to_end():
    graph = build_graph(llm=fake_llm("lonely 0.9; sad 0.05; devastated 0.05", "I'm sorry."), sem=ScriptedSEM(),
                        cause_tagger=ScriptedTagger())  # fmt: skip
    out = graph.invoke({"messages": [("user", "My dog died.")]}, context=Context(judgement_design="ranked"))
    assert (out["emotion"], out["emotion_stage"]) == ("lonely", "ranked") and out["reply"] == "I'm sorry."
    assert [j["stage"] for j in out["judgements"]] == ["ranked"]


@pytest.mark.parametrize(
    "settings", [{"judgement_design": "best"}, {"ranked_weight": -1.0}, {"ranked_floor": 0.0}, {"ranked_floor": 0.5}]
)
def test_context_rejects_bad_ranked_settings(settings):
    with pytest.raises(ValueError):
        Context(**settings)
