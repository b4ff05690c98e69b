"""The cause tagger: storage, conditioning on the emotion, long inputs, resumable training, the shipped one."""

from __future__ import annotations

import gzip
import json
from dataclasses import asdict

import pytest
import torch

from hef_graph.lab import train_cause_tagger as training
from hef_graph.sem.cause_tagger import CONFIG_FILE, CauseTagger, LowRankAdapted, TaggerInput
from hef_graph.sem.encoder import default_base_model
from hef_graph.sem.resident import load_cause_tagger
from hef_graph.sem.words import is_content_word

DIALOGUE = ["My dog died this morning.", "Oh no, I am so sorry.", "I keep expecting him at the door."]


pytestmark = pytest.mark.real  # every test here reads the MiniLM base weights


@pytest.fixture(scope="module")
def shipped():
    return load_cause_tagger(device="cpu")


def test_saved_tagger_reloads_to_the_same_scores(tmp_path):
    torch.manual_seed(0)
    tagger = CauseTagger(default_base_model(), tuned_layers=1).eval()
    tagger.save_pretrained(tmp_path, {"data": "none (a test)"})
    again = CauseTagger.from_pretrained(tmp_path)
    inputs = [TaggerInput.of(DIALOGUE, "sad")]
    before, after = tagger.word_scores(inputs)[0], again.word_scores(inputs)[0]
    assert before.keys() == after.keys() and max(abs(before[k] - after[k]) for k in before) < 0.02
    assert json.loads((tmp_path / CONFIG_FILE).read_text())["tuned_layers"] == 1


def test_low_rank_updates_start_at_zero_and_merge_exactly():
    torch.manual_seed(0)
    plain = CauseTagger(default_base_model(), tuned_layers=2).eval()
    torch.manual_seed(0)
    adapted = CauseTagger(default_base_model(), tuned_layers=2, adapter_rank=4).eval()
    inputs = [TaggerInput.of(DIALOGUE, "sad")]
    assert plain.word_scores(inputs) == adapted.word_scores(inputs)  # a zero update changes nothing
    for module in adapted.modules():
        if isinstance(module, LowRankAdapted):
            torch.nn.init.normal_(module.up.weight, std=0.05)
    trained = adapted.word_scores(inputs)[0]
    adapted.merge_adapters()
    merged = adapted.word_scores(inputs)[0]
    assert not any(isinstance(m, LowRankAdapted) for m in adapted.modules())
    assert trained != plain.word_scores(inputs)[0] and max(abs(trained[k] - merged[k]) for k in trained) < 1e-4


def test_only_the_top_layers_and_the_head_train():
    tagger = CauseTagger(default_base_model(), tuned_layers=2)
    trainable = {name for name, p in tagger.named_parameters() if p.requires_grad}
    assert trainable and all(
        name.startswith(("head.", "encoder.encoder.layer.4.", "encoder.encoder.layer.5.")) for name in trainable
    )
    assert set(tagger.tuned_state()) == {name for name in tagger.state_dict() if name in trainable}


def test_shipped_tagger_returns_distinct_content_words_of_the_dialogue(shipped):
    words = shipped.tag(DIALOGUE, "devastated", 5)
    assert 0 < len(words) <= 5
    assert all(DIALOGUE[w.turn][w.start : w.end] == w.text and is_content_word(w.text) for w in words)
    assert len({w.text.lower() for w in words}) == len(words)
    assert [w.score for w in words] == sorted((w.score for w in words), reverse=True)


def test_the_emotion_changes_the_tags(shipped):
    joyful = shipped.word_scores([TaggerInput.of(DIALOGUE, "joyful")])[0]
    afraid = shipped.word_scores([TaggerInput.of(DIALOGUE, "afraid")])[0]
    assert max(abs(joyful[k] - afraid[k]) for k in joyful) > 1e-3


def test_a_long_dialogue_keeps_its_latest_turns(shipped):
    turns = ["We talked about the weather and nothing else. " * 20] * 6 + ["My cat knocked the vase over."]
    item = TaggerInput.of(turns, "annoyed")
    scored = shipped.word_scores([item])[0]
    latest = {i for i, w in enumerate(item.reversed_turns.words) if w.turn == 0}
    assert latest <= set(scored) and len(scored) < len(item.reversed_turns.words)


def test_training_resumes_where_it_stopped(tmp_path, data_dir, monkeypatch):
    settings = training.TaggerTraining(epochs=1, batch_size=4, save_every=2, train_limit=24)
    real_step, steps = training.training_step, []

    def interrupted(*args):
        if len(steps) == 3:
            raise KeyboardInterrupt
        steps.append("first run")
        return real_step(*args)

    monkeypatch.setattr(training, "training_step", interrupted)
    with pytest.raises(KeyboardInterrupt):
        training.train_cause_tagger(data_dir, tmp_path, default_base_model(), settings)
    assert (tmp_path / training.CHECKPOINT_FILE).exists() and not (tmp_path / CONFIG_FILE).exists()

    def counted(*args):
        steps.append("second run")
        return real_step(*args)

    monkeypatch.setattr(training, "training_step", counted)
    record = training.train_cause_tagger(data_dir, tmp_path, default_base_model(), settings)
    assert steps.count("second run") == 6 - 2  # the checkpoint after step 2 is where the rerun starts
    assert [e["epoch"] for e in record["epochs"]] == [0] and record["best"]["epoch"] == 0
    assert CauseTagger.from_pretrained(tmp_path).tag(DIALOGUE, "sad", 3)


def test_content_words_only_leaves_stopwords_out_of_the_loss(shipped):
    dialogue = ["My dog died this morning."]
    words = {(0, 3), (0, 7), (0, 12)}  # dog, died, this: the human span "dog died this"
    example = training.SpanExample(dialogue, "sad", frozenset(words))
    _, every = training.token_targets(shipped, [example])
    _, content = training.token_targets(shipped, [example], content_words_only=True)
    assert (every >= 0).sum() > (content >= 0).sum() > 0
    assert (every == 1).sum() == 3 and (content == 1).sum() == 2  # "this" is a stopword: left out, not negative


def types_by_token(tagger: CauseTagger) -> dict[str, int]:
    batch = tagger.encode([TaggerInput.of(DIALOGUE, "sad")])
    tokens = tagger.tokenizer.convert_ids_to_tokens(batch["input_ids"][0])
    return dict(zip(tokens, batch["token_type_ids"][0].tolist(), strict=True))


def test_speaker_types_mark_the_target_speakers_turns_and_survive_a_reload(tmp_path):
    tagger = CauseTagger(default_base_model(), tuned_layers=1, speaker_types=True).eval()
    types = types_by_token(tagger)
    assert types["dog"] == types["door"] == 1  # the target speaker: the latest turn and two turns back
    assert types["sorry"] == types["sad"] == 0  # the other speaker, and the emotion word
    tagger.save_pretrained(tmp_path, {"data": "none (a test)"})
    assert CauseTagger.from_pretrained(tmp_path).speaker_types
    plain = types_by_token(CauseTagger(default_base_model(), tuned_layers=1))
    assert plain["sorry"] == plain["dog"] == 1  # without the option: BERT's plain second segment


def write_ed_train(folder, conversations) -> None:
    (folder / "empathetic_dialogues").mkdir(parents=True)
    with gzip.open(folder / "empathetic_dialogues" / "train.jsonl.gz", "wt", encoding="utf-8") as out:
        out.writelines(json.dumps(c) + "\n" for c in conversations)


def test_situation_examples_label_the_words_that_repeat_the_situation(tmp_path):
    turns = ["Two tires burst on the highway!", "Oh no, are you hurt?", "No, but I was so scared.", "Glad you're ok."]
    write_ed_train(tmp_path, [{
        "conv_id": f"hit:{i}_conv:{i}", "emotion": "terrified", "situation": "My tire burst on the highway.",
        "utterances": [{"speaker": ("speaker", "listener")[j % 2], "text": t} for j, t in enumerate(turns)],
    } for i in range(20)])  # fmt: skip
    examples = training.situation_examples(tmp_path, "train", seed=0)
    assert len(examples) == 20 and {e.emotion for e in examples} == {"terrified"}
    assert {len(e.turns) for e in examples} == {1, 3}  # each ends at one of the speaker's turns, chosen by the seed
    for example in examples:
        assert example.cause_words == {(0, 4), (0, 10), (0, 23)}  # tires (matches "tire"), burst, highway
    assert examples == training.situation_examples(tmp_path, "train", seed=0)


def test_a_run_can_start_from_another_runs_checkpoint(tmp_path):
    torch.manual_seed(0)
    first = CauseTagger(default_base_model(), tuned_layers=1, adapter_rank=2)
    torch.nn.init.normal_(first.head.weight)
    optimiser = torch.optim.AdamW(first.parameters())
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: 1.0)
    weak = {"settings": asdict(training.TaggerTraining(source="ed-situations", content_words_only=True))}
    training.save_checkpoint(tmp_path, first, optimiser, scheduler, weak, 1, 0)
    second = CauseTagger(default_base_model(), tuned_layers=1, adapter_rank=2)
    training.start_from_run(tmp_path, second)
    assert all(torch.equal(second.tuned_state()[k], v) for k, v in first.tuned_state().items())
    with pytest.raises(ValueError, match="other tuned layers"):
        training.start_from_run(tmp_path, CauseTagger(default_base_model(), tuned_layers=2, adapter_rank=2))
    with pytest.raises(FileNotFoundError):
        training.start_from_run(tmp_path / "none", second)
    licence = training.data_licence(training.TaggerTraining(start_from=str(tmp_path)))
    assert licence.index("EmpatheticDialogues") < licence.index("RECCON-DD") and "CC BY-NC 4.0" in licence
