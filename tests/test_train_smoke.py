"""The real training path (hef train-sem) runs a few steps on a tiny ED slice, saves, resumes and reloads."""

import json

import pytest
import torch
from safetensors.torch import load_file

from hef_graph.lab.train_sem import TrainConfig, train_sem
from hef_graph.sem.classifier import EmotionClassifier
from hef_graph.sem.encoder import base_weights

pytestmark = pytest.mark.data


def test_train_sem_smoke_saves_resumes_and_reloads(data_dir, tmp_path):
    config = TrainConfig(data_dir=data_dir, output_dir=tmp_path, epochs=1, batch_size=16, train_limit=12,
                         valid_limit=32, device="cpu")  # fmt: skip
    report = train_sem(config)
    assert report["train_examples"] > 12 and report["temperature"] > 0
    checkpoint = tmp_path / "checkpoints" / "member_0" / "checkpoint.pt"
    assert checkpoint.is_file()
    stamp = checkpoint.stat().st_mtime_ns
    resumed = train_sem(TrainConfig(**{**config.__dict__, "members": 2}))
    assert checkpoint.stat().st_mtime_ns == stamp  # member 0 was finished, so it was not retrained
    assert (tmp_path / "checkpoints" / "member_1" / "checkpoint.pt").is_file()
    assert resumed["train_examples"] == report["train_examples"]
    saved = json.loads((tmp_path / "model" / "sem_config.json").read_text())
    assert saved["members"] == ["member_0.safetensors", "member_1.safetensors"]
    assert set(saved["calibration"]["mixture"]) >= {"members", "speaker_view", "lexical", "frozen"}
    classifier = EmotionClassifier.from_pretrained(tmp_path / "model", device="cpu")
    assert classifier.predict_proba([["I lost my keys"]]).shape == (1, 32)

    grown = train_sem(TrainConfig(**{**config.__dict__, "members": 3, "extend": tmp_path / "model",
                                     "freeze_embeddings": True, "output_dir": tmp_path / "grown"}))  # fmt: skip
    assert not (tmp_path / "grown" / "checkpoints" / "member_0").exists()  # kept, not retrained
    assert grown["train_examples"] == report["train_examples"]
    extended = EmotionClassifier.from_pretrained(tmp_path / "grown" / "model", device="cpu")
    assert len(extended.members) == 3
    for kept, before in zip(extended.members[:2], classifier.members, strict=True):
        for name, tensor in before.state_dict().items():
            torch.testing.assert_close(kept.state_dict()[name], tensor, atol=1e-6, rtol=0)
    new_table = extended.members[2].state_dict()
    table = [name for name in new_table if name.endswith("word_embeddings.weight")][0]
    packed = load_file(tmp_path / "grown" / "model" / "member_2.safetensors")
    assert packed[f"{table}.rows"].numel() == 0 and packed[f"{table}.int8"].numel() == 0
    base_table = base_weights(config.base_model)
    assert torch.equal(new_table[table], base_table[table])  # frozen embeddings: nothing of its own stored


def test_train_config_rejects_bad_values(tmp_path):
    with pytest.raises(ValueError, match="epochs must be at least 1, got 0"):
        TrainConfig(data_dir=tmp_path, output_dir=tmp_path, epochs=0)
