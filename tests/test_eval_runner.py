"""`hef eval` plumbing: stratified plan, resumable predictions, metrics.json keys, with a fake LLM."""

import json

import pytest

from hef_graph import as_runtime
from hef_graph.lab.evaluation import runner
from hef_graph.lab.evaluation.report import write_report
from hef_graph.lab.evaluation.runner import EvalConfig, plan, run_eval
from hef_graph.labels import EMOTIONS
from tests.conftest import StartingRuntime, fake_llm

pytestmark = pytest.mark.data


def test_plan_is_stratified_with_a_reply_subset(data_dir, tmp_path):
    config = EvalConfig(data_dir=data_dir, output_dir=tmp_path, systems=["sem", "hef"], sample=2, reply_sample=1)
    tasks = plan(config)
    assert len(tasks) == 2 * 32 * 2
    hef_tasks = [t for t in tasks if t[1] == "hef"]
    assert sum(with_reply for _, _, with_reply in hef_tasks) == 32
    assert not any(with_reply for _, name, with_reply in tasks if name == "sem")


def test_an_excluded_evaluation_gives_a_sample_with_none_of_its_conversations(data_dir, tmp_path):
    first = EvalConfig(data_dir=data_dir, output_dir=tmp_path, systems=["sem"], sample=4, reply_sample=0)
    earlier = tmp_path / "earlier.jsonl"
    earlier.write_text("".join(json.dumps({"sample_id": s.sample_id}) + "\n" for s, _, _ in plan(first)))
    fresh = plan(EvalConfig(data_dir=data_dir, output_dir=tmp_path, systems=["sem"], sample=4, reply_sample=0,
                            exclude=earlier))  # fmt: skip
    assert len(fresh) == 4 * 32
    assert not runner.conversations_in(earlier) & {runner.conversation_of(s.sample_id) for s, _, _ in fresh}


def test_unknown_system_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown systems"):
        EvalConfig(data_dir=tmp_path, output_dir=tmp_path, systems=["gpt9"])


def test_run_resumes_and_writes_the_contract_metrics(data_dir, tmp_path, monkeypatch, real_sem):
    fake = fake_llm("none", "Emotion: sad", "I'm sorry to hear that.")
    monkeypatch.setattr(runner, "load_llm", lambda spec: as_runtime(fake))
    config = EvalConfig(data_dir=data_dir, output_dir=tmp_path, systems=["sem", "llm", "hef"], sample=1,
                        reply_sample=1, limit=2)  # fmt: skip
    path = run_eval(config)
    lines = path.read_text().splitlines()
    assert len(lines) == 6
    with path.open("a") as handle:
        handle.write('{"torn": ')  # a run killed mid-write
    run_eval(config)
    assert len([line for line in path.read_text().splitlines() if line.startswith('{"sample_id"')]) == 6
    metrics = write_report(tmp_path, {"command": "test"}, real_sem)
    for system in ("sem", "llm", "hef"):
        assert {"emotion_accuracy", "macro_f1", "dist_1", "dist_2", "bleu_1"} <= set(metrics[system])
    assert metrics["hef"]["dist_1"] is not None and metrics["sem"]["dist_1"] is None
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["hef"]["emotion_samples"] == 2 and saved["pairwise"] == {}
    assert (tmp_path / "report.md").is_file() and (tmp_path / "accuracy.png").is_file()
    replies = (tmp_path / "replies.md").read_text()
    assert replies.count("- **hef**") == 2 and replies.count("- **llm**: ") == 2


def test_a_turn_routed_to_the_safe_reply_is_recorded_without_an_emotion(scripted_sem):
    from hef_graph.lab.data import DialogueSample
    from hef_graph.lab.evaluation.systems import SYSTEMS, SystemRunner

    sample = DialogueSample("conv", 1, ("I want to kill myself.",), "sad", "Please talk to someone.", "")
    record = SystemRunner(SYSTEMS["hef"], as_runtime(fake_llm("unused")), scripted_sem).run(sample, with_reply=True)
    assert record["crisis"] and record["emotion"] == "none" and record["sem_top1"] is None
    assert record["reply"] and record["context"] == ["I want to kill myself."]


def test_the_llm_alone_with_an_opener_begins_with_its_own_move_and_hef_with_the_sems(scripted_sem):
    from hef_graph.judging import Judgement
    from hef_graph.lab.data import DialogueSample
    from hef_graph.lab.evaluation.systems import SYSTEMS, SystemRunner
    from hef_graph.prompting import render_prompt

    class SureOfFear(StartingRuntime):
        def judge(self, request, policy):  # the LLM alone is sure the speaker is afraid
            scores = {c: 0.01 for c in EMOTIONS} | {"afraid": 0.5, "terrified": 0.2}
            return Judgement(stage=request.stage, candidates=request.candidates, scores=scores, choice="afraid",
                             method="scored", answer="", error=None)  # fmt: skip

    sample = DialogueSample("conv", 1, ("My dog died this morning.",), "sad", "So sorry.", "")
    llm = SureOfFear("That must hurt.")
    record = SystemRunner(SYSTEMS["llm_opener"], llm, scripted_sem).run(sample, with_reply=True)
    assert record["emotion"] == "afraid" and record["reply"].startswith(render_prompt("opener_reassure"))
    plain = SystemRunner(SYSTEMS["llm"], SureOfFear("That must hurt."), scripted_sem).run(sample, with_reply=True)
    assert plain["reply"] == "That must hurt."


def test_the_confusion_plot_leaves_out_turns_without_an_emotion(tmp_path):
    from hef_graph.lab.evaluation.report import plot_confusion

    records = [{"system": "hef", "gold": "sad", "emotion": "none"}, {"system": "hef", "gold": "sad", "emotion": "sad"}]
    plot_confusion(records, "hef", tmp_path / "confusion.png")
    assert (tmp_path / "confusion.png").stat().st_size > 0
