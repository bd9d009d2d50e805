"""Applying a pix2pix generator: single images, folders, and scored test sets.

Test-time behaviour follows the paper: dropout stays on and batch norm uses the statistics of
the image at hand (the reference's default; ``eval_mode=True`` is its ``--eval``). Batch-norm
running statistics are never modified by inference here (momentum set to 0), so the same
model gives the same output for the same seed however many images went before.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from photogen.core.atomic import write_text_atomic
from photogen.core.image import ImageError
from photogen.pix2pix.data import AlignedDataset, find_pairs, from_model, resize, to_model
from photogen.pix2pix.metrics import MetricSet
from photogen.pix2pix.runfiles import write_triplets


def prepare(G: nn.Module, eval_mode: bool = False, channels_last: bool = False) -> nn.Module:
    """Put ``G`` in the paper's test mode (or ``--eval`` mode) without side effects."""
    G.train(not eval_mode)
    for m in G.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = 0.0  # use batch statistics, leave the running ones as they are
    if channels_last:
        G.to(memory_format=torch.channels_last)
    return G


def translate(
    G: nn.Module,
    image: torch.Tensor,
    size: int = 256,
    keep_size: bool = True,
    device: torch.device | None = None,
    bf16: bool = False,
) -> torch.Tensor:
    """``G`` applied to ``image`` ``(1, 3, H, W)`` in ``[0, 1]``.

    The network sees the image resized to ``size`` x ``size`` (as the authors test); the result
    is resized back to ``H x W`` when ``keep_size``.
    """
    device = device or next(G.parameters()).device
    h, w = image.shape[-2:]
    x = to_model(resize(image.float(), size)).to(device)
    with torch.inference_mode(), torch.autocast(device.type, torch.bfloat16, enabled=bf16):
        y = G(x)
    out = from_model(y.float().cpu())
    return resize(out, (h, w)) if keep_size and (h, w) != (size, size) else out


def run_test(
    G: nn.Module,
    data: str | os.PathLike,
    out_dir: str | os.PathLike,
    direction: str = "AtoB",
    size: int = 256,
    phase: str = "test",
    fid: str | None = "lite0",
    max_images: int | None = None,
    device: torch.device | None = None,
    progress: Callable | None = None,
    log: Callable[[str], None] = lambda msg: None,
) -> dict:
    """Translate the pairs of ``data/phase`` (or ``data``), score them, write a results page.

    Writes ``out_dir/index.html`` (input, output, target for each pair), ``metrics.json``
    (means and FID) and ``per_image.json``.
    """
    device = device or next(G.parameters()).device
    pairs = find_pairs(data, phase)[:max_images]
    dataset = AlignedDataset(pairs, direction, size, size, False, False, on_error=log)
    metrics = MetricSet(fid, device)
    shown = []
    out_dir = Path(out_dir)
    done: set[int] = set()
    it = range(len(dataset))
    for i in progress(it) if progress else it:
        item = dataset[i]
        if item["index"] in done:  # a bad pair was replaced by one already scored
            continue
        done.add(item["index"])
        a = item["A"][None]
        with torch.inference_mode():
            fake = G(a.to(device)).float().cpu()
        name = pairs[item["index"]].name
        metrics.update(name, from_model(fake), from_model(item["B"][None]))
        shown.append((name, a, fake, item["B"][None]))
    if not shown:
        raise ValueError(f"{data}: no readable test pairs")
    summary = metrics.summary()
    summary["skipped"] = len(dataset.bad)
    note = ", ".join(f"{k} {v:.4g}" for k, v in summary.items() if isinstance(v, float))
    write_triplets(out_dir, f"pix2pix results: {Path(data).name}", shown, note)
    write_text_atomic(out_dir / "metrics.json", json.dumps(summary, indent=2))
    write_text_atomic(out_dir / "per_image.json", json.dumps(metrics.rows, indent=1))
    return summary


def check_readable(path: Path) -> None:
    """Raise :class:`ImageError` early for paths that are not files."""
    if not path.is_file():
        raise ImageError(path, "no such file" if not path.exists() else "not a file")
