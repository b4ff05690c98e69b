"""The small empathetic model (SEM): fine-tuned sentence encoders, a lexical member and the frozen base encoder.

The fine-tuned encoders carry a 32-way emotion head; the two weaker members err differently and are mixed in
(``mixture.py``), and the sum is calibrated by a temperature. Attribution lives in ``attribution.py``.

Example::

    >>> sem = EmotionClassifier.from_pretrained("path/to/sem")
    >>> sem.predict([["My dog died this morning."]])
    ['devastated']
    >>> sem.cause_words(["My dog died this morning."], "devastated", 2)
    [('died', 0.41), ('dog', 0.22)]
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from hef_graph.devices import best_device
from hef_graph.labels import EMOTIONS
from hef_graph.sem.attribution import (
    CAUSE_RECENCY,
    IG_STEPS,
    Analysis,
    aggregate_words,
    integrated_gradients,
    padded_baseline,
)
from hef_graph.sem.batching import BatchedSEM
from hef_graph.sem.encoder import EncoderMember, base_weights, default_base_model
from hef_graph.sem.lexical import LexicalMember
from hef_graph.sem.mixture import Mixture, speaker_turns
from hef_graph.sem.probabilities import log_softmax, softmax
from hef_graph.sem.words import JoinedDialogue, join_dialogue

CONFIG_FILE = "sem_config.json"
FROZEN_HEAD_FILE = "frozen_head.safetensors"

Dialogue = Sequence[str]


def as_dialogues(dialogues: Sequence[Dialogue] | Sequence[str]) -> list[list[str]]:
    """Normalise input: a list of turn lists, where a bare string counts as a one-turn dialogue."""
    if isinstance(dialogues, str):
        raise TypeError("expected a list of dialogues (each a list of turn strings), got one string")
    normalised = []
    for dialogue in dialogues:
        turns = [dialogue] if isinstance(dialogue, str) else list(dialogue)
        if not all(isinstance(turn, str) for turn in turns):
            raise TypeError("every turn of a dialogue must be a string")
        normalised.append(turns)
    return normalised


class EmotionClassifier:
    """sklearn-style 32-way emotion classifier over dialogues, with faithful cause-word attribution.

    The ``members`` (fine-tuned encoders), the speaker-only view and the optional ``lexical`` and ``frozen``
    members add up in log-probability space with the ``mixture``'s weights, and the sum is divided by
    ``temperature`` (mixture and temperature are fit on ED valid). Cause words attribute the fine-tuned
    encoders, which carry most of the weight.
    """

    def __init__(
        self,
        members: list[EncoderMember],
        labels: Sequence[str] = EMOTIONS,
        temperature: float = 1.0,
        max_length: int = 128,
        ig_steps: int = IG_STEPS,
        lexical: LexicalMember | None = None,
        frozen: EncoderMember | None = None,
        mixture: Mixture | None = None,
        cause_recency: float = CAUSE_RECENCY,
    ) -> None:
        """Assemble a classifier from loaded members; see ``from_pretrained`` for the usual path."""
        if not members:
            raise ValueError("an EmotionClassifier needs at least one encoder member")
        self.members = members
        self._labels = tuple(labels)
        self.temperature = float(temperature)
        self.max_length = max_length
        self.ig_steps = ig_steps
        self.lexical = lexical
        self.frozen = frozen
        self.mixture = mixture = mixture or Mixture()
        if not 0 < cause_recency <= 1:
            raise ValueError(f"cause_recency must be in (0, 1], got {cause_recency}")
        self.cause_recency = cause_recency
        mixture.member_weights(len(members))  # refuses a mixture made for another number of encoders
        if mixture.lexical and lexical is None:
            raise ValueError("a mixture with a lexical weight needs the lexical member")
        if mixture.frozen and frozen is None:
            raise ValueError("a mixture with a frozen weight needs the frozen member")
        self.tokenizer = members[0].encoder.tokenizer
        self.tokenizer.truncation_side = "left"  # keep the most recent turns
        for member in [*members, *([frozen] if frozen else [])]:
            member.requires_grad_(False).eval()
        self._batcher: BatchedSEM | None = None
        self._batcher_lock = threading.Lock()

    @property
    def labels(self) -> tuple[str, ...]:
        """Return the label order of every probability array."""
        return self._labels

    @property
    def device(self) -> torch.device:
        """Return the device the members live on."""
        return next(self.members[0].parameters()).device

    def batched(self) -> BatchedSEM:
        """This classifier's one micro-batcher, so every graph and thread that uses it shares its batches."""
        with self._batcher_lock:
            if self._batcher is None:
                self._batcher = BatchedSEM(self)
            return self._batcher

    # ----- loading and saving -------------------------------------------------------------------

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str | None = None) -> EmotionClassifier:
        """Load a classifier saved by ``save_pretrained`` (or ``hef train-sem``) from a local folder.

        The folder holds ``sem_config.json`` and one weights file per member; the architecture and
        tokenizer come from the base encoder folder it names (default: the bundled MiniLM).
        """
        path = Path(path)
        config_path = path / CONFIG_FILE
        if not config_path.is_file():
            raise FileNotFoundError(f"{path} holds no {CONFIG_FILE}: not a saved HEF SEM folder")
        config = json.loads(config_path.read_text())
        device = device or best_device()
        labels = config["labels"]
        base = Path(config["base_model"]) if config.get("base_model") else default_base_model()
        members = [EncoderMember.load(path / name, base, len(labels), device) for name in config["members"]]
        return cls(
            members,
            labels=labels,
            temperature=config.get("temperature", 1.0),
            max_length=config.get("max_length", 128),
            ig_steps=config.get("ig_steps", IG_STEPS),
            lexical=LexicalMember.load(path) if config.get("lexical") else None,
            frozen=EncoderMember.load_frozen(path / FROZEN_HEAD_FILE, base, len(labels), device)
            if config.get("frozen")
            else None,
            mixture=Mixture.from_config(config.get("mixture", {})),
            cause_recency=config.get("cause_recency", CAUSE_RECENCY),
        )

    def save_pretrained(
        self, path: str | Path, base_model: Path | None = None, extra: dict[str, Any] | None = None
    ) -> None:
        """Save every member (int8 matrices, rows the base model already has left out) with a config.

        ``base_model`` is the base encoder folder the members were trained from (None: the bundled MiniLM).
        """
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        reference = base_weights(base_model or default_base_model())
        names = []
        for index, member in enumerate(self.members):
            names.append(f"member_{index}.safetensors")
            member.save(path / names[-1], reference)
        if self.lexical is not None:
            self.lexical.save(path)
        if self.frozen is not None:
            self.frozen.save_head(path / FROZEN_HEAD_FILE)
        config = {
            "labels": list(self.labels),
            "temperature": self.temperature,
            "max_length": self.max_length,
            "ig_steps": self.ig_steps,
            "members": names,
            "lexical": self.lexical is not None,
            "frozen": self.frozen is not None,
            "cause_recency": self.cause_recency,
            "mixture": asdict(self.mixture),
            "base_model": str(base_model) if base_model else None,
            **(extra or {}),
        }
        (path / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")

    # ----- classification -----------------------------------------------------------------------

    def _encode(self, joined: list[JoinedDialogue]) -> dict[str, Tensor]:
        batch = self.tokenizer(
            [item.text for item in joined],
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
            return_offsets_mapping=True,
        )
        return {key: value.to(self.device) for key, value in batch.items()}

    @torch.inference_mode()
    def _batched(
        self, joined: list[JoinedDialogue], run: Callable[[Tensor, Tensor], Tensor], width: int, batch_size: int = 64
    ) -> np.ndarray:
        """Apply ``run(input_ids, mask)`` to joined dialogues in length-sorted batches; rows in input order."""
        order = sorted(range(len(joined)), key=lambda i: len(joined[i].text))
        result = np.zeros((len(joined), width), dtype=np.float32)
        for begin in range(0, len(order), batch_size):
            chunk = order[begin : begin + batch_size]
            batch = self._encode([joined[i] for i in chunk])
            result[chunk] = run(batch["input_ids"], batch["attention_mask"]).float().cpu().numpy()
        return result

    def _member_logits(self, joined: list[JoinedDialogue], batch_size: int = 64) -> np.ndarray:
        """Each fine-tuned encoder's logits, shape (members, n, labels)."""

        def run(ids: Tensor, mask: Tensor) -> Tensor:
            return torch.cat([member(ids, mask) for member in self.members], 1)

        flat = self._batched(joined, run, len(self.members) * len(self.labels), batch_size)
        return flat.reshape(len(joined), len(self.members), -1).transpose(1, 0, 2)

    def frozen_features(self, dialogues: Sequence[Dialogue] | Sequence[str]) -> np.ndarray:
        """The frozen base encoder's pooled embeddings, the features its logistic-regression head reads."""
        if self.frozen is None:
            raise ValueError("this SEM has no frozen member")
        joined = [join_dialogue(turns) for turns in as_dialogues(dialogues)]
        return self._batched(joined, self.frozen.pooled, self.frozen.head.in_features)

    def parts(
        self,
        dialogues: Sequence[Dialogue] | Sequence[str],
        member_logits: np.ndarray | None = None,
        every: bool = False,
        batch_size: int = 64,
    ) -> dict[str, np.ndarray]:
        """Each part's log-probabilities before mixing: 'members', 'speaker', 'lexical' and 'frozen'.

        'members' holds one row block per fine-tuned encoder on the whole context, shape (members, n, labels).
        Parts the mixture does not use are skipped unless ``every`` (for fitting the mixture).
        ``member_logits`` are the encoders' logits on the whole context when a caller already has them.
        """
        turns_list = as_dialogues(dialogues)
        joined = [join_dialogue(turns) for turns in turns_list]
        if member_logits is None:
            member_logits = self._member_logits(joined, batch_size)
        result = {"members": log_softmax(member_logits)}
        if every or self.mixture.speaker_view:
            result["speaker"] = log_softmax(member_logits.mean(0))
            multi = [i for i, turns in enumerate(turns_list) if len(speaker_turns(turns)) < len(turns)]
            if multi:  # a one-turn context is its own speaker view
                views = [join_dialogue(speaker_turns(turns_list[i])) for i in multi]
                result["speaker"][multi] = log_softmax(self._member_logits(views, batch_size).mean(0))
        if self.lexical is not None and (every or self.mixture.lexical):
            result["lexical"] = self.lexical.log_proba([item.text for item in joined])
        if self.frozen is not None and (every or self.mixture.frozen):
            result["frozen"] = log_softmax(self._batched(joined, self.frozen, len(self.labels), batch_size))
        return result

    def mix(self, parts: dict[str, np.ndarray], mixture: Mixture | None = None) -> np.ndarray:
        """Add the parts with the mixture's weights: the SEM's uncalibrated logits."""
        mixture = mixture or self.mixture
        scores = np.tensordot(mixture.member_weights(len(self.members)), parts["members"], 1)
        for name, weight in mixture.part_weights().items():
            if weight:
                scores = scores + weight * parts[name]
        return scores

    def logits(self, dialogues: Sequence[Dialogue] | Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Return the mixed, uncalibrated logits of shape (n, labels)."""
        return self.mix(self.parts(dialogues, batch_size=batch_size))

    def predict_proba(self, dialogues: Sequence[Dialogue] | Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Return calibrated probabilities, shape (n, 32), in ``labels`` order."""
        return softmax(self.logits(dialogues, batch_size) / self.temperature)

    def predict(self, dialogues: Sequence[Dialogue] | Sequence[str]) -> list[str]:
        """Return the most likely label of each dialogue."""
        return [self.labels[i] for i in self.predict_proba(dialogues).argmax(1)]

    def top_k(self, dialogues: Sequence[Dialogue] | Sequence[str], k: int = 3) -> list[list[tuple[str, float]]]:
        """Return the k most likely (label, probability) pairs of each dialogue, best first."""
        probabilities = self.predict_proba(dialogues)
        return [[(self.labels[i], float(row[i])) for i in np.argsort(-row)[:k]] for row in probabilities]

    # ----- emotion-cause words ------------------------------------------------------------------

    def cause_words(self, dialogue: Dialogue, emotion: str | None = None, n: int = 5) -> list[tuple[str, float]]:
        """Return up to n (word, score) pairs that push the model toward ``emotion`` (default: top-1)."""
        causes = self.analyze([dialogue], n=n, targets=[emotion])[0].causes
        return [(cause.word, cause.score) for cause in causes]

    def analyze(
        self,
        dialogues: Sequence[Dialogue] | Sequence[str],
        n: int = 5,
        targets: Sequence[str | None] | None = None,
    ) -> list[Analysis]:
        """Classify and attribute in one batched pass (integrated gradients over word embeddings).

        The IG path's last point is the real input, so the distribution comes from the same forward
        pass as the attribution. A target of None means the predicted top-1 label.
        """
        turns_list = as_dialogues(dialogues)
        targets = list(targets) if targets is not None else [None] * len(turns_list)
        if len(targets) != len(turns_list):
            raise ValueError(f"got {len(turns_list)} dialogues but {len(targets)} targets")
        for target in targets:
            if target is not None and target not in self.labels:
                raise ValueError(f"unknown emotion {target!r}: expected one of the {len(self.labels)} ED labels")
        joined = [join_dialogue(turns) for turns in turns_list]
        batch = self._encode(joined)
        mixed: list[np.ndarray] = []

        def targets_for(member_logits: np.ndarray) -> list[int]:
            mixed.append(self.mix(self.parts(turns_list, member_logits)))
            return [self.labels.index(t) if t else int(i) for t, i in zip(targets, mixed[0].argmax(-1), strict=True)]

        ids = batch["input_ids"]
        baseline = padded_baseline(ids, self.tokenizer.all_special_ids, self.tokenizer.pad_token_id)
        token_scores = integrated_gradients(
            self.members, ids, batch["attention_mask"], baseline, self.ig_steps, targets_for
        )
        logits = mixed[0]
        probabilities = softmax(logits / self.temperature)
        analyses = []
        for row, item in enumerate(joined):
            target_index = self.labels.index(targets[row]) if targets[row] else int(probabilities[row].argmax())
            causes = aggregate_words(
                item, batch["offset_mapping"][row].tolist(), token_scores[row], n, self.cause_recency
            )
            distribution = {label: float(p) for label, p in zip(self.labels, probabilities[row], strict=True)}
            analyses.append(Analysis(distribution, self.labels[target_index], causes))
        return analyses
