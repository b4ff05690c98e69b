"""Fine-tune the SEM on ED train contexts, resumably, then mix in its lexical member and calibrate on ED valid.

What is trained lives in ``model.py`` and ``lexical.py``; this module only orchestrates: data, the loop,
checkpoints (one per epoch, so a run killed at any point resumes), the mixture, temperature scaling and export.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from sklearn.linear_model import LogisticRegression
from torch import nn

from hef_graph.devices import best_device
from hef_graph.lab.data import DialogueSample, listener_turn_samples, load_conversations, load_samples
from hef_graph.lab.fit_lexical import fit_lexical, label_head
from hef_graph.lab.metrics import expected_calibration_error, fit_temperature, top_k_accuracy
from hef_graph.labels import EMOTIONS
from hef_graph.sem.classifier import EmotionClassifier
from hef_graph.sem.encoder import EncoderMember, default_base_model, load_base_encoder
from hef_graph.sem.mixture import Mixture
from hef_graph.sem.probabilities import softmax
from hef_graph.sem.words import join_dialogue


@dataclass(kw_only=True)
class TrainConfig:
    """Every knob of an SEM training run; stored next to the weights so a run can be repeated."""

    data_dir: Path
    output_dir: Path
    base_model: Path = field(default_factory=default_base_model)
    epochs: int = 4
    members: int = 1
    seed: int = 13
    device: str = field(default_factory=best_device)
    batch_size: int = 32
    learning_rate: float = 8e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    label_smoothing: float = 0.1
    max_length: int = 128
    with_situations: bool = True
    freeze_embeddings: bool = False
    """Keep the base encoder's word embeddings: the member then stores no word-embedding rows of its own."""
    extend: Path | None = None
    """A saved SEM folder whose members are kept; training adds members up to ``members`` in all."""
    mixture: bool = True
    """Add the lexical and frozen members and fit the mixture on valid (``fit_mixture``)."""
    train_limit: int | None = None
    valid_limit: int | None = None

    def __post_init__(self) -> None:
        """Normalise paths and reject settings that would fail deep inside training."""
        self.data_dir, self.output_dir, self.base_model = map(Path, (self.data_dir, self.output_dir, self.base_model))
        self.extend = Path(self.extend) if self.extend else None
        for name in ("epochs", "members", "batch_size", "max_length"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0 < self.learning_rate < 1:
            raise ValueError(f"learning_rate must be in (0, 1), got {self.learning_rate}")
        if not (self.base_model / "modules.json").is_file():
            raise ValueError(f"base_model {self.base_model} is not a sentence-transformers folder")


@dataclass
class TrainingExample:
    """One encoder input (dialogue turns) and its gold label index."""

    turns: tuple[str, ...]
    label: int


def build_examples(config: TrainConfig) -> list[TrainingExample]:
    """Turn ED train into examples: every listener-turn context, plus each situation text."""
    conversations = load_conversations(config.data_dir, "train")
    if config.train_limit:
        conversations = random.Random(config.seed).sample(conversations, min(config.train_limit, len(conversations)))
    index = {label: i for i, label in enumerate(EMOTIONS)}
    examples = [TrainingExample(s.context, index[s.emotion]) for s in listener_turn_samples(conversations)]
    if config.with_situations:
        examples += [TrainingExample((c["situation"],), index[c["emotion"]]) for c in conversations]
    return examples


def _tokenize(tokenizer, examples: list[TrainingExample], max_length: int) -> list[list[int]]:
    tokenizer.truncation_side = "left"
    texts = [join_dialogue(example.turns).text for example in examples]
    return tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]


def _collate(token_ids: list[list[int]], pad_id: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(ids) for ids in token_ids)
    ids = torch.full((len(token_ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(token_ids), width), dtype=torch.long)
    for row, sequence in enumerate(token_ids):
        ids[row, : len(sequence)] = torch.tensor(sequence)
        mask[row, : len(sequence)] = 1
    return ids.to(device), mask.to(device)


def _linear_warmup(total_steps: int, warmup_ratio: float):
    warmup = max(1, int(total_steps * warmup_ratio))

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return schedule


def length_bucketed_batches(lengths: list[int], batch_size: int, seed: int, pool: int = 50) -> list[list[int]]:
    """Shuffled batches of similar-length examples, so little of each batch is padding.

    ED contexts are short (median 26 tokens) with a long tail; random batches pad to the tail. Each pool of
    ``pool`` batches' worth of shuffled rows is sorted by length and cut into batches, and the batches are
    shuffled again, so every epoch still sees every example once in a seeded random order.
    """
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(lengths), generator=generator).tolist()
    batches = []
    for begin in range(0, len(order), batch_size * pool):
        chunk = sorted(order[begin : begin + batch_size * pool], key=lengths.__getitem__)
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class MemberTrainer:
    """Train one ensemble member with a checkpoint after every epoch."""

    def __init__(self, config: TrainConfig, member_index: int, examples: list[TrainingExample]) -> None:
        """Prepare the model, optimiser and schedule; resume from ``checkpoint.pt`` if present."""
        self.config = config
        self.seed = config.seed + member_index
        self.work_dir = config.output_dir / "checkpoints" / f"member_{member_index}"
        self.work_dir.mkdir(parents=True, exist_ok=True)
        _seed_everything(self.seed)
        self.model = EncoderMember(load_base_encoder(config.base_model, config.device), len(EMOTIONS))
        self.model.to(config.device)
        if config.freeze_embeddings:
            self.model.transformer.get_input_embeddings().requires_grad_(False)
        self.tokenizer = self.model.encoder.tokenizer
        self.token_ids = _tokenize(self.tokenizer, examples, config.max_length)
        self.labels = torch.tensor([example.label for example in examples])
        self.steps_per_epoch = math.ceil(len(examples) / config.batch_size)
        trainable = [parameter for parameter in self.model.parameters() if parameter.requires_grad]
        self.optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=config.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, _linear_warmup(self.steps_per_epoch * config.epochs, config.warmup_ratio)
        )
        self.loss = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
        self.epochs_done = self._resume()

    @property
    def checkpoint_path(self) -> Path:
        """Return where the end-of-epoch state is kept."""
        return self.work_dir / "checkpoint.pt"

    def _resume(self) -> int:
        if not self.checkpoint_path.is_file():
            return 0
        state = torch.load(self.checkpoint_path, map_location=self.config.device, weights_only=False)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"].cpu())
        return int(state["epochs_done"])

    def _save_checkpoint(self, epochs_done: int) -> None:
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "epochs_done": epochs_done,
        }
        partial = self.checkpoint_path.with_suffix(".tmp")
        torch.save(state, partial)
        partial.replace(self.checkpoint_path)  # atomic: a kill mid-save keeps the last good epoch

    def train(self, progress: Progress) -> EncoderMember:
        """Run the remaining epochs and return the trained member."""
        device = self.config.device
        autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.startswith("cuda"))
        for epoch in range(self.epochs_done, self.config.epochs):
            task = progress.add_task(f"member seed {self.seed} epoch {epoch + 1}", total=self.steps_per_epoch)
            batches = length_bucketed_batches(
                [len(ids) for ids in self.token_ids], self.config.batch_size, self.seed * 1000 + epoch
            )
            self.model.train()
            running = 0.0
            for step, rows in enumerate(batches):
                ids, mask = _collate([self.token_ids[r] for r in rows], self.tokenizer.pad_token_id, device)
                with autocast:
                    logits = self.model(ids, mask)
                loss = self.loss(logits.float(), self.labels[rows].to(device))
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
                self.optimizer.step()
                self.scheduler.step()
                running = 0.98 * running + 0.02 * loss.item() if step else loss.item()
                progress.update(
                    task, advance=1, description=f"member seed {self.seed} epoch {epoch + 1} loss {running:.3f}"
                )
            self._save_checkpoint(epoch + 1)
        return self.model.eval()


EXTRA_PARTS = ("speaker", "lexical", "frozen")
"""The parts after the encoders' own, in the order ``likelihood_mixture`` weighs them."""
NEGLIGIBLE_WEIGHT = 0.005


def fit_frozen_member(classifier: EmotionClassifier, examples: list[TrainingExample], base_model: Path) -> None:
    """Put a logistic-regression head, fit on the training examples, on the untouched base encoder."""
    frozen = EncoderMember(load_base_encoder(base_model, str(classifier.device)), len(classifier.labels))
    classifier.frozen = frozen.requires_grad_(False).eval()
    features = classifier.frozen_features([list(example.turns) for example in examples])
    head = LogisticRegression(C=1.0, max_iter=3000).fit(features, [example.label for example in examples])
    weights, bias = label_head(head, len(classifier.labels))
    with torch.no_grad():
        frozen.head.weight.copy_(torch.from_numpy(weights))
        frozen.head.bias.copy_(torch.from_numpy(bias))


def fit_mixture(
    classifier: EmotionClassifier, examples: list[TrainingExample], valid: list[DialogueSample], base_model: Path
) -> tuple[dict[str, Any], np.ndarray]:
    """Fit the lexical and frozen members on the training examples, then the mixture weights on valid.

    Returns the chosen mixture with its valid scores (against the encoders alone) for the report, and the
    mixed valid logits, so calibration does not run every member over valid again.
    """
    texts = [join_dialogue(example.turns).text for example in examples]
    classifier.lexical = fit_lexical(texts, [example.label for example in examples], len(classifier.labels))
    fit_frozen_member(classifier, examples, base_model)
    parts = classifier.parts([list(sample.context) for sample in valid], every=True)
    gold = [EMOTIONS.index(sample.emotion) for sample in valid]
    classifier.mixture = likelihood_mixture(parts, gold)
    if not classifier.mixture.lexical:
        classifier.lexical = None
    if not classifier.mixture.frozen:
        classifier.frozen = None

    def scores(mixture: Mixture) -> dict[str, float]:
        mixed = classifier.mix(parts, mixture)
        return {"top1": top_k_accuracy(mixed, gold, 1), "top3": top_k_accuracy(mixed, gold, 3)}

    report = asdict(classifier.mixture) | {"valid_encoders_alone": scores(Mixture()),
                                           "valid_mixed": scores(classifier.mixture)}  # fmt: skip
    return report, classifier.mix(parts)


def likelihood_mixture(parts: dict[str, np.ndarray], gold: list[int]) -> Mixture:
    """The non-negative part weights that maximise the likelihood of the valid labels.

    Weighing every encoder on its own lets a member that adds nothing beside the others drop out. The
    weights are rescaled so the encoders' (members and speaker view) sum to 1, which keeps the mixed
    logits on the encoders' scale; the temperature fit afterwards carries the overall sharpness.
    """
    extra = [name for name in EXTRA_PARTS if name in parts]
    stacked = torch.tensor(np.concatenate([parts["members"], np.stack([parts[name] for name in extra])]))
    target = torch.tensor(gold)
    log_weights = torch.full((len(stacked),), math.log(0.3), dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([log_weights], max_iter=200, line_search_fn="strong_wolfe")

    def loss() -> torch.Tensor:
        optimiser.zero_grad()
        value = nn.functional.cross_entropy(torch.einsum("p,pnc->nc", log_weights.exp(), stacked), target)
        value.backward()
        return value

    optimiser.step(loss)
    members = len(parts["members"])
    encoders = members + ("speaker" in extra)  # the members' own weights, then the speaker view's
    weights = log_weights.exp().detach().numpy()
    weights = weights / weights[:encoders].sum()
    weights[weights < NEGLIGIBLE_WEIGHT] = 0.0
    weights = [round(float(w), 4) for w in weights / weights[:encoders].sum()]
    named = dict.fromkeys(EXTRA_PARTS, 0.0) | dict(zip(extra, weights[members:], strict=True))
    return Mixture(tuple(weights[:members]), named["speaker"], named["lexical"], named["frozen"])


def calibrate(
    classifier: EmotionClassifier, samples: list[DialogueSample], logits: np.ndarray | None = None
) -> dict[str, float]:
    """Fit the temperature on valid samples and report accuracy and ECE before and after.

    ``logits`` are the classifier's uncalibrated logits on ``samples`` when the caller already has them.
    """
    gold = [EMOTIONS.index(sample.emotion) for sample in samples]
    if logits is None:
        logits = classifier.logits([list(sample.context) for sample in samples])
    before = softmax(logits)
    classifier.temperature = fit_temperature(logits, gold)
    after = softmax(logits / classifier.temperature)
    return {
        "valid_top1": top_k_accuracy(after, gold, 1),
        "valid_top3": top_k_accuracy(after, gold, 3),
        "valid_ece_before": expected_calibration_error(before, gold),
        "valid_ece_after": expected_calibration_error(after, gold),
        "temperature": classifier.temperature,
    }


def train_sem(config: TrainConfig) -> dict[str, float]:
    """Train every member (resuming finished work), calibrate on valid, and save the SEM folder."""
    started = time.time()
    examples = build_examples(config)
    members = EmotionClassifier.from_pretrained(config.extend, config.device).members if config.extend else []
    if len(members) > config.members:
        raise ValueError(f"{config.extend} already has {len(members)} members, more than --members {config.members}")
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TimeElapsedColumn(), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns) as progress:
        for index in range(len(members), config.members):
            members.append(MemberTrainer(config, index, examples).train(progress))
    classifier = EmotionClassifier(members, max_length=config.max_length)
    valid = load_samples(config.data_dir, "valid")
    if config.valid_limit:
        valid = valid[: config.valid_limit]
    mixture, logits = fit_mixture(classifier, examples, valid, config.base_model) if config.mixture else ({}, None)
    report = calibrate(classifier, valid, logits) | {"mixture": mixture}
    report["train_examples"] = len(examples)
    report["train_seconds"] = round(time.time() - started, 1)
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()}
    classifier.save_pretrained(
        config.output_dir / "model",
        None if config.base_model == default_base_model() else config.base_model,
        extra={"training": settings, "calibration": report,
               "data_licence": "Trained on EmpatheticDialogues (CC BY-NC 4.0): non-commercial use only."},
    )  # fmt: skip
    (config.output_dir / "train_report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def refit_mixture(sem_dir: Path, output_dir: Path, data_dir: Path, device: str = "cpu") -> dict[str, Any]:
    """Give a trained SEM folder (e.g. the shipped one) its lexical member and mixture, then recalibrate.

    The encoders are kept as they are; their training record is carried over into the new config.
    """
    classifier = EmotionClassifier.from_pretrained(sem_dir, device=device)
    saved = json.loads((Path(sem_dir) / "sem_config.json").read_text())
    base_model = Path(saved["base_model"]) if saved.get("base_model") else None
    config = TrainConfig(data_dir=data_dir, output_dir=output_dir, base_model=base_model or default_base_model())
    valid = load_samples(data_dir, "valid")
    mixture, logits = fit_mixture(classifier, build_examples(config), valid, config.base_model)
    report = calibrate(classifier, valid, logits) | {"mixture": mixture}
    kept = {key: saved[key] for key in ("training", "data_licence") if key in saved}
    classifier.save_pretrained(output_dir, base_model, kept | {"calibration": report})
    return report
