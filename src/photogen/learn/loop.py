"""Pieces the CNN and GAN trainers share: a data order that is a pure function of
``(seed, epoch)`` (so a resumed run sees the same batches), model files, CSV/plot helpers."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import torch

from photogen.core.atomic import atomic_path


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


def read_config_metadata(path, expected_format: str) -> tuple[dict, dict]:
    """``(state_dict, config)`` from a safetensors file we wrote with a JSON ``config``."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(path), "pt") as f:
        meta = f.metadata() or {}
    if meta.get("format") != expected_format:
        raise ValueError(f"{path}: not a {expected_format} file (format {meta.get('format')!r})")
    return load_file(str(path)), json.loads(meta["config"])


def save_figure(fig, path) -> None:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
