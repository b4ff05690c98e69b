"""Train the cause tagger on RECCON-DD train's human cause spans (valid picks the epoch; test is never read).

A run may start from another run's weights (``start_from``), e.g. one trained on ED's situations as weak
labels (``source="ed-situations"``, ``situation_examples``).

Resumable: a checkpoint (tuned weights, optimiser, scheduler, position in the epoch) is written every
``save_every`` steps and at each epoch's end, and a rerun with the same output folder continues from it.
The best epoch by valid top-5 token F1 is saved as a loadable tagger in the output folder.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from hef_graph.lab.data import load_conversations, load_reccon
from hef_graph.lab.evaluation.causes import pick_tagger
from hef_graph.lab.sem_eval import RECCON_TO_ED, CauseCase, reccon_cases, run_picker, span_agreement, words_in_spans
from hef_graph.sem.cause_tagger import CauseTagger, TaggerInput, is_adapter_parameter
from hef_graph.sem.words import is_content_word, join_dialogue, normal_form

log = logging.getLogger(__name__)
CHECKPOINT_FILE = "checkpoint.pt"
DATA_LICENCES = {
    "reccon": "RECCON-DD train (Poria et al., 2021; DailyDialog, Li et al., 2017): CC BY-NC-SA 4.0, "
    "non-commercial, share-alike",
    "ed-situations": "EmpatheticDialogues train (Rashkin et al., 2019), its situations as weak labels: CC BY-NC 4.0, "
    "non-commercial",
}


@dataclass(frozen=True)
class TaggerTraining:
    """The training run's settings (stored with the tagger)."""

    epochs: int = 3
    batch_size: int = 16
    learning_rate: float = 1e-4
    tuned_layers: int = 2
    adapter_rank: int = 16
    """Rank of the low-rank updates of the layers below the tuned ones (0: those layers stay frozen)."""
    adapter_learning_rate: float = 5e-4
    content_words_only: bool = False
    """Score the loss on content words only: the words a cause-word list can hold (stopwords never are)."""
    ranking_weight: float = 0.0
    """Weight of a listwise term (``ranking_loss``) added to the per-token cross-entropy: cause words are
    picked as a dialogue's top five, a ranking, which per-token probabilities do not train directly."""
    speaker_types: bool = False
    """Mark each dialogue token's speaker with BERT's segment type (``CauseTagger.encode``)."""
    source: str = "reccon"
    """Training targets: ``reccon`` (RECCON-DD train's human spans) or ``ed-situations`` (ED train, with the
    dialogue's words that its speaker's situation text repeats as weak cause labels; ``situation_examples``)."""
    start_from: str | None = None
    """A training run's folder whose last checkpoint gives the starting weights (e.g. an ``ed-situations`` run)."""
    seed: int = 0
    save_every: int = 50
    train_limit: int | None = None
    """Use only the first N train targets (smoke runs and tests)."""

    def __post_init__(self) -> None:
        """Refuse settings that would train on labels the source does not have."""
        if self.source not in DATA_LICENCES:
            raise ValueError(f"unknown training source {self.source!r}: use one of {', '.join(DATA_LICENCES)}")
        if self.source == "ed-situations" and not self.content_words_only:
            raise ValueError("ed-situations labels say nothing of stopwords: train it with content words only")


@dataclass(frozen=True)
class SpanExample:
    """One RECCON target: the history up to it, its emotion (as an ED word) and the words of its cause spans."""

    turns: list[str]
    emotion: str
    cause_words: frozenset[tuple[int, int]]
    """(turn, start) of every word inside a human cause span."""


def span_examples(data_dir: Path, split: str) -> list[SpanExample]:
    """RECCON targets with every word of their spans marked (stopwords too: the tagger learns whole spans)."""
    examples = []
    for row in load_reccon(data_dir, split):
        turns, inside = words_in_spans(row)
        examples.append(SpanExample(turns, RECCON_TO_ED[row["emotion"]], frozenset((w.turn, w.start) for w in inside)))
    return examples


def situation_examples(data_dir: Path, split: str, seed: int) -> list[SpanExample]:
    """Weakly labelled ED conversations: words that repeat the speaker's situation text count as its cause.

    ED's speakers wrote the situation that made them feel the conversation's emotion before they talked about
    it, so the content words a dialogue shares with that text (``word_forms``) mostly name the cause.
    Each conversation gives one target: its turns up to one of the speaker's turns, chosen by the seed. The
    labels say nothing of stopwords, so such a run scores content words only (``TaggerTraining`` insists).
    """
    rng = np.random.default_rng(seed)
    examples = []
    for conversation in load_conversations(data_dir, split):
        utterances = conversation["utterances"]
        ends = [i for i, turn in enumerate(utterances) if turn["speaker"] == "speaker"]
        turns = [turn["text"] for turn in utterances[: int(rng.choice(ends)) + 1]]
        situation = set().union(*(word_forms(w.text) for w in join_dialogue([conversation["situation"]]).words))
        cause = [w for w in join_dialogue(turns).words if is_content_word(w.text) and word_forms(w.text) & situation]
        examples.append(SpanExample(turns, conversation["emotion"], frozenset((w.turn, w.start) for w in cause)))
    return examples


def word_forms(word: str) -> set[str]:
    """The lower-cased word and the word without one common inflection, so "tires" matches "tire"."""
    lowered = normal_form(word)
    stripped = {lowered[: -len(end)] for end in ("ing", "ed", "es", "s") if lowered.endswith(end)}
    return {lowered} | {form for form in stripped if len(form) >= 3}


def training_examples(data_dir: Path, settings: TaggerTraining) -> list[SpanExample]:
    """The run's train targets, from the source its settings name."""
    if settings.source == "ed-situations":
        examples = situation_examples(data_dir, "train", settings.seed)
    else:
        examples = span_examples(data_dir, "train")
    return examples[: settings.train_limit]


def data_licence(settings: TaggerTraining) -> str:
    """Which data (and licence) the weights were trained on, including the runs they started from, in order."""
    sources = [settings.source]
    start = settings.start_from
    while start:
        started = json.loads((Path(start) / "training.json").read_text())["settings"]
        sources.insert(0, started.get("source", "reccon"))
        start = started.get("start_from")
    return "Trained on " + "; then on ".join(DATA_LICENCES[source] for source in sources)


def token_targets(
    tagger: CauseTagger, examples: Sequence[SpanExample], content_words_only: bool = False
) -> tuple[dict[str, Tensor], Tensor]:
    """Encode a batch; targets are 1 inside a cause span, 0 elsewhere, and -1 for tokens left out of the loss.

    Tokens that are no word are always left out; with ``content_words_only``, stopword tokens too.
    """
    inputs = [TaggerInput.of(example.turns, example.emotion) for example in examples]
    batch = tagger.encode(inputs)
    targets = torch.full(batch["word_index"].shape, -1.0)
    for row, (item, example) in enumerate(zip(inputs, examples, strict=True)):
        for position, index in enumerate(batch["word_index"][row].tolist()):
            if index >= 0:
                word = item.original(item.reversed_turns.words[index])
                if content_words_only and not is_content_word(word.text):
                    continue
                targets[row, position] = float((word.turn, word.start) in example.cause_words)
    return batch, targets


def batches(examples: Sequence[SpanExample], size: int, seed: int) -> list[list[SpanExample]]:
    """Shuffled batches of similar length (less padding), in an order fixed by the seed."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(examples)).tolist()
    chunk = size * 16
    grouped: list[list[SpanExample]] = []
    for begin in range(0, len(order), chunk):
        part = sorted(order[begin : begin + chunk], key=lambda i: sum(len(t) for t in examples[i].turns))
        grouped += [[examples[i] for i in part[j : j + size]] for j in range(0, len(part), size)]
    return [grouped[i] for i in rng.permutation(len(grouped))]


def valid_f1(tagger: CauseTagger, cases: list[CauseCase], words: int = 5) -> dict[str, float]:
    """Top-``words`` token agreement with the human spans of RECCON-DD valid (``hef eval-causes``'s scoring)."""
    tagger.eval()
    picked = run_picker(pick_tagger(tagger), None, cases, words)  # type: ignore[arg-type]
    tagger.train()
    return span_agreement(cases, picked, ks=(1, 3, 5))


def train_cause_tagger(
    data_dir: Path, output_dir: Path, base_model: Path, settings: TaggerTraining = TaggerTraining()
) -> dict:
    """Train (or resume), keep the best epoch by valid F1 in ``output_dir``, and return the run's record."""
    torch.manual_seed(settings.seed)
    output_dir.mkdir(parents=True, exist_ok=True)
    examples = training_examples(data_dir, settings)
    valid_cases = reccon_cases(data_dir, "valid")
    tagger = CauseTagger(base_model, settings.tuned_layers, settings.adapter_rank, speaker_types=settings.speaker_types)
    if settings.start_from:
        start_from_run(Path(settings.start_from), tagger)
    licence = data_licence(settings)
    optimiser = torch.optim.AdamW(parameter_groups(tagger, settings), weight_decay=0.01)
    steps_per_epoch = len(batches(examples, settings.batch_size, settings.seed))
    total = steps_per_epoch * settings.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: max(0.0, 1 - step / total))
    record = {"settings": asdict(settings), "train_targets": len(examples), "epochs": [], "best": None,
              "seconds": 0.0}  # fmt: skip
    epoch, done_in_epoch = resume(output_dir, tagger, optimiser, scheduler, record)
    tagger.train()
    while epoch < settings.epochs:
        started = time.monotonic()
        for step, batch in enumerate(batches(examples, settings.batch_size, settings.seed + epoch)):
            if step < done_in_epoch:
                continue
            loss = training_step(tagger, batch, optimiser, scheduler, settings)
            if step % 20 == 0:
                log.info("epoch %d step %d/%d loss %.4f", epoch, step, steps_per_epoch, loss)
            if (step + 1) % settings.save_every == 0:
                record["seconds"] += time.monotonic() - started
                started = time.monotonic()
                save_checkpoint(output_dir, tagger, optimiser, scheduler, record, epoch, step + 1)
        record["seconds"] += time.monotonic() - started
        scores = valid_f1(tagger, valid_cases)
        record["epochs"].append({"epoch": epoch} | scores)
        log.info("epoch %d valid F1 %.3f", epoch, scores["f1"])
        if record["best"] is None or scores["f1"] > record["best"]["f1"]:
            record["best"] = {"epoch": epoch} | scores
            tagger.save_pretrained(output_dir, {"training": record | {"epochs": list(record["epochs"])},
                                                "data": licence})  # fmt: skip
        epoch, done_in_epoch = epoch + 1, 0
        save_checkpoint(output_dir, tagger, optimiser, scheduler, record, epoch, 0)
    return record


def parameter_groups(tagger: CauseTagger, settings: TaggerTraining) -> list[dict]:
    """The low-rank updates learn at their own (higher) rate, the tuned layers and the head at the base rate."""
    adapters, rest = [], []
    for name, parameter in tagger.named_parameters():
        if parameter.requires_grad:
            (adapters if is_adapter_parameter(name) else rest).append(parameter)
    groups = [{"params": rest, "lr": settings.learning_rate}]
    return groups + ([{"params": adapters, "lr": settings.adapter_learning_rate}] if adapters else [])


def training_step(
    tagger: CauseTagger, batch: list[SpanExample], optimiser, scheduler, settings: TaggerTraining
) -> float:
    """One optimiser step: per-token cross-entropy over the tokens ``token_targets`` keeps, plus ranking_loss."""
    encoded, targets = token_targets(tagger, batch, settings.content_words_only)
    logits = tagger(encoded["input_ids"], encoded["attention_mask"], encoded["token_type_ids"])
    mask = targets >= 0
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits[mask], targets[mask])
    if settings.ranking_weight:
        loss = loss + settings.ranking_weight * ranking_loss(logits, targets)
    optimiser.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_([p for p in tagger.parameters() if p.requires_grad], 1.0)
    optimiser.step()
    scheduler.step()
    return loss.item()


def save_checkpoint(output_dir: Path, tagger, optimiser, scheduler, record: dict, epoch: int, step: int) -> None:
    """Write everything a rerun needs to continue, atomically (a kill mid-write leaves the old checkpoint)."""
    partial = output_dir / (CHECKPOINT_FILE + ".part")
    state = {"tuned": tagger.tuned_state(), "optimiser": optimiser.state_dict(), "scheduler": scheduler.state_dict()}
    torch.save(state | {"record": record, "epoch": epoch, "step": step}, partial)
    partial.replace(output_dir / CHECKPOINT_FILE)
    (output_dir / "training.json").write_text(json.dumps(record, indent=2) + "\n")


def resume(output_dir: Path, tagger, optimiser, scheduler, record: dict) -> tuple[int, int]:
    """Load the checkpoint if there is one; return (epoch, steps already done in it)."""
    path = output_dir / CHECKPOINT_FILE
    if not path.exists():
        return 0, 0
    saved = torch.load(path, weights_only=False)
    tagger.load_state_dict(saved["tuned"], strict=False)
    optimiser.load_state_dict(saved["optimiser"])
    scheduler.load_state_dict(saved["scheduler"])
    record.update(saved["record"])
    log.info("resuming at epoch %d step %d", saved["epoch"], saved["step"])
    return saved["epoch"], saved["step"]


def start_from_run(run_dir: Path, tagger: CauseTagger) -> None:
    """Put another run's last checkpointed weights (full precision, before any int8 rounding) on ``tagger``."""
    path = run_dir / CHECKPOINT_FILE
    if not path.exists():
        raise FileNotFoundError(f"no training checkpoint to start from: {path}")
    tuned = torch.load(path, weights_only=False)["tuned"]
    if set(tuned) != set(tagger.tuned_state()):
        raise ValueError(f"{path} was trained with other tuned layers or adapter rank than this run")
    tagger.load_state_dict(tuned, strict=False)


def ranking_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """Listwise cross-entropy: per dialogue, the mean -log softmax probability of its cause tokens.

    The softmax runs over the dialogue's scored tokens; dialogues without a cause token are left out.
    """
    scored, positive = targets >= 0, targets == 1
    log_p = torch.log_softmax(logits.masked_fill(~scored, float("-inf")), dim=-1)
    per_row = -log_p.masked_fill(~positive, 0.0).sum(-1) / positive.sum(-1).clamp(min=1)
    rows = positive.any(-1)
    return per_row[rows].mean() if bool(rows.any()) else logits.sum() * 0.0
