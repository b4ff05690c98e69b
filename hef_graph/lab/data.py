"""EmpatheticDialogues and RECCON-DD loading, with the project's evaluation unit.

The unit (as in CEM and MoEL): one sample per listener turn; the context is every turn before it,
the label is the conversation's emotion and the reference reply is that listener turn.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class DialogueSample:
    """One listener turn of ED: the context before it, its emotion and the reply itself."""

    conv_id: str
    turn_index: int
    context: tuple[str, ...]
    emotion: str
    reference: str
    situation: str

    @property
    def sample_id(self) -> str:
        """Return a stable id for resumable runs."""
        return f"{self.conv_id}#{self.turn_index}"


def default_data_dir() -> Path:
    """Return ``$HEF_DATA_DIR`` or the ``shared/data`` folder beside the checkout."""
    env = os.environ.get("HEF_DATA_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _read_jsonl_gz(path: Path) -> Iterator[dict]:
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: pass --data-dir pointing at a folder holding "
            "empathetic_dialogues/ and reccon/ (see shared/data/README.md)"
        )
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


def load_conversations(data_dir: Path, split: str) -> list[dict]:
    """Load one ED split as raw conversation records."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return list(_read_jsonl_gz(Path(data_dir) / "empathetic_dialogues" / f"{split}.jsonl.gz"))


def listener_turn_samples(conversations: list[dict]) -> list[DialogueSample]:
    """Expand conversations into one sample per listener turn (the evaluation unit)."""
    samples = []
    for conv in conversations:
        texts = [utterance["text"] for utterance in conv["utterances"]]
        for index, utterance in enumerate(conv["utterances"]):
            if utterance["speaker"] != "listener" or index == 0:
                continue
            samples.append(
                DialogueSample(
                    conv_id=conv["conv_id"],
                    turn_index=index,
                    context=tuple(texts[:index]),
                    emotion=conv["emotion"],
                    reference=utterance["text"],
                    situation=conv["situation"],
                )
            )
    return samples


def load_samples(data_dir: Path, split: str) -> list[DialogueSample]:
    """Load one ED split in the evaluation unit."""
    return listener_turn_samples(load_conversations(data_dir, split))


def load_reccon(data_dir: Path, split: str) -> list[dict]:
    """Load RECCON-DD target utterances with their human cause spans."""
    return list(_read_jsonl_gz(Path(data_dir) / "reccon" / f"{split}.jsonl.gz"))


def stratified_sample(samples: list[DialogueSample], per_label: int, seed: int) -> list[DialogueSample]:
    """Draw ``per_label`` samples of every emotion (all of a label if it has fewer), seeded, in a stable order."""
    import random

    rng = random.Random(seed)
    by_label: dict[str, list[DialogueSample]] = {}
    for sample in samples:
        by_label.setdefault(sample.emotion, []).append(sample)
    drawn = []
    for label in sorted(by_label):
        group = by_label[label]
        drawn += rng.sample(group, min(per_label, len(group)))
    return drawn
