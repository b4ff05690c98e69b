"""The real training path (hef train-sem) runs a few steps on a tiny ED slice, saves, resumes and reloads."""

import json

import pytest

from hef_graph.sem.model import EmotionClassifier
from hef_graph.sem.train import TrainConfig, train_sem

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


def test_train_config_rejects_bad_values(tmp_path):
    with pytest.raises(ValueError, match="epochs must be at least 1, got 0"):
        TrainConfig(data_dir=tmp_path, output_dir=tmp_path, epochs=0)
