"""What a pix2pix run writes besides its checkpoint: generator weights, loss CSV + plot, and the
HTML page of (input, output, target) triplets. Every file is written atomically."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from photogen.core.atomic import write_csv_atomic
from photogen.core.gallery import Section, Tile, pyplot, save_figure, write_gallery
from photogen.core.image import save_image
from photogen.core.weights import save_safetensors
from photogen.pix2pix.data import from_model

LOG_FIELDS = ["step", "epoch", "G_GAN", "G_L1", "D_real", "D_fake", "lr", "seconds"]


def save_generator(model: nn.Module, path: str | os.PathLike, meta: dict) -> Path:
    """The generator's weights as safetensors (reference key names), settings as metadata."""
    return save_safetensors(
        model.state_dict(), path, {"format": "photogen-pix2pix-generator", **meta}
    )


def write_log(path: Path, rows: list[dict]) -> None:
    write_csv_atomic(path, rows, LOG_FIELDS)


def plot_losses(path: Path, rows: list[dict]) -> None:
    """G's cGAN and L1 terms and D's real/fake terms against the step (running means)."""
    plt = pyplot()
    if not rows:
        return
    steps = [int(r["step"]) for r in rows]
    window = max(1, min(50, len(rows) // 5))
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.3), dpi=100)
    for ax, keys in zip(axes, (("G_L1",), ("G_GAN", "D_real", "D_fake")), strict=True):
        for key in keys:
            v = torch.tensor([float(r[key]) for r in rows])
            smooth = v.unfold(0, window, 1).mean(1).tolist()
            ax.plot(steps[window - 1 :], smooth, label=key)
        ax.set_xlabel("step")
        ax.legend(fontsize=8)
    axes[0].set_ylabel(f"loss (mean of {window} steps)")
    fig.tight_layout()
    save_figure(fig, path)


def write_triplets(
    folder: Path,
    title: str,
    batches: list[tuple[str, torch.Tensor, torch.Tensor, torch.Tensor]],
    note: str = "",
) -> Path:
    """Save (input, output, target) images in ``[-1, 1]`` and an ``index.html`` showing them.

    ``batches`` holds ``(label, input, output, target)``; each tensor ``(1, C, H, W)``.
    """
    sections: list[Section] = []
    for label, a, fake, b in batches:
        tiles = []
        for kind, t in (("input", a), ("output", fake), ("target", b)):
            name = f"images/{label}_{kind}.png"
            save_image(from_model(t.detach().float().cpu()), folder / name)
            tiles.append(Tile(name, kind))
        sections.append(Section(label, tiles))
    if sections and note:
        sections[0].note = note
    return write_gallery(folder / "index.html", title, sections)
