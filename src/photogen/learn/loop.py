"""Pieces the CNN and GAN trainers share: a data order that is a pure function of
``(seed, epoch)``, so that a resumed run sees the same batches."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass
class Position:
    """Where a run stands: next epoch, next batch within it, optimizer steps taken."""

    epoch: int = 0
    batch: int = 0
    step: int = 0

    def to_dict(self) -> dict:
        return {"epoch": self.epoch, "batch": self.batch, "step": self.step}


def epoch_plan(n: int, seed: int, epoch: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The permutation of ``n`` items and a horizontal-flip coin per item for one epoch."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=g), torch.rand(n, generator=g) < 0.5


def batches_per_epoch(n: int, batch_size: int) -> int:
    return math.ceil(n / batch_size)


def batch_indices(order: torch.Tensor, b: int, batch_size: int) -> torch.Tensor:
    return order[b * batch_size : (b + 1) * batch_size]
