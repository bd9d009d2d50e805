"""What a colorization training run writes besides its checkpoint: weights, log, plot, gallery.

All files are written atomically into the run folder (see :func:`photogen.colorize.train.train`).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from photogen.core.atomic import write_csv_atomic
from photogen.core.color import lightness_image
from photogen.core.gallery import Section, Tile, pyplot, save_figure, write_gallery
from photogen.core.image import save_image
from photogen.core.weights import save_safetensors


def save_weights(model: nn.Module, path: str | os.PathLike, arch: str, meta: dict) -> Path:
    """Our weights as safetensors, with the architecture name in the metadata."""
    metadata = {"format": "photogen-colorizer", "arch": arch, **meta}
    return save_safetensors(model.state_dict(), path, metadata)


def write_log(path: Path, rows: list[dict]) -> None:
    write_csv_atomic(path, rows, ["step", "loss", "val_loss", "lr", "seconds"])


def val_gallery(model, val_images, run_dir: Path, step: int, device) -> None:
    from photogen.colorize.pipeline import colorize_tensor

    model.eval()
    tiles = []
    out = run_dir / "gallery"
    for i, img in enumerate(val_images[:8]):
        rgb = img.float()[None] / 255.0
        pred = colorize_tensor(model, rgb, device=device)
        grey = lightness_image(rgb)
        for kind, t in (("grey", grey), ("pred", pred), ("truth", rgb)):
            save_image(t, out / f"{i:02d}-{kind}.jpg")
        tiles += [
            Tile(f"{i:02d}-grey.jpg", "input (L only)"),
            Tile(f"{i:02d}-pred.jpg", f"step {step}"),
            Tile(f"{i:02d}-truth.jpg", "ground truth"),
        ]
    write_gallery(out / "index.html", f"Validation at step {step}", [Section("", tiles)])
    model.train()


def plot_run(run_dir: Path, rows: list[dict]) -> None:
    """Training loss (raw and a 50-step running mean) and validation loss against the step."""
    plt = pyplot()
    if not rows:
        return
    steps = [int(r["step"]) for r in rows]
    loss = torch.tensor([float(r["loss"]) for r in rows])
    window = min(50, len(loss))
    smooth = loss.unfold(0, window, 1).mean(1).tolist()
    val = [(int(r["step"]), float(r["val_loss"])) for r in rows if r["val_loss"] != ""]
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    ax.plot(steps, loss.tolist(), color="0.8", lw=0.6, label="train (batch)")
    ax.plot(steps[window - 1 :], smooth, color="C0", label=f"train (mean of {window})")
    if val:
        ax.plot(*zip(*val, strict=True), "o-", color="C1", label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("rebalanced cross-entropy")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, run_dir / "loss.png")
