"""The shipped weights' storage format: each matrix row as int8 with one fp16 scale.

It halves the size against fp16, so the SEM fits the 50 MB budget; the rounding error is below the noise
of training (docs/results.md).
"""

from __future__ import annotations

import torch
from torch import Tensor


def to_int8_rows(matrix: Tensor) -> tuple[Tensor, Tensor]:
    """Quantise a 2-D matrix row by row: (int8 values, fp16 scale per row)."""
    matrix = matrix.detach().float().cpu()
    scale = matrix.abs().amax(dim=1, keepdim=True).clamp(min=1e-8) / 127.0
    return torch.round(matrix / scale).to(torch.int8).contiguous(), scale.half().contiguous()


def from_int8_rows(values: Tensor, scale: Tensor) -> Tensor:
    """Dequantise ``to_int8_rows`` output back to fp32."""
    return values.float() * scale.float()
