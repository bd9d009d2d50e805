"""The empirical ab-bin distribution of a training set (for class rebalancing), as a file.

Saved as safetensors: ``counts`` (313 pixel counts, float64) and ``prior`` (normalised,
float32), with the number of images in the metadata. The rebalancing weights are derived from
it on load (:func:`photogen.colorize.bins.rebalance_weights`), so one prior serves any lambda
and sigma.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from photogen.core.atomic import atomic_path


def save_prior(path: str | os.PathLike, counts: torch.Tensor, n_images: int) -> Path:
    from safetensors.torch import save_file

    if counts.numel() != 313 or counts.sum() <= 0:
        raise ValueError("a prior needs 313 bin counts with a positive total")
    counts = counts.double()
    tensors = {"counts": counts.contiguous(), "prior": (counts / counts.sum()).float()}
    with atomic_path(path) as tmp:
        save_file(
            tensors,
            str(tmp),
            metadata={"format": "photogen-colorize-prior", "images": str(n_images)},
        )
    return Path(path)


def load_prior(path: str | os.PathLike) -> torch.Tensor:
    """The 313 bin probabilities of a prior file written by :func:`save_prior`."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            if (f.metadata() or {}).get("format") != "photogen-colorize-prior":
                raise ValueError(f"{path}: not a photogen colorization prior")
            counts = f.get_tensor("counts")
    except (OSError, RuntimeError) as exc:  # missing, truncated, not safetensors
        raise ValueError(f"{path}: cannot read the prior ({exc})") from exc
    return counts / counts.sum()
