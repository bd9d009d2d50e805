"""Pictures that teach: confusion matrix, first-layer filters, feature maps, sample grids."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch

from photogen.core.atomic import write_csv_atomic, write_text_atomic
from photogen.core.gallery import Section, Tile, pyplot, save_figure, write_gallery
from photogen.core.image import save_image


def image_grid(images: torch.Tensor, cols: int, pad: int = 1, scale: int = 1) -> torch.Tensor:
    """``(n, C, H, W)`` in [0, 1] -> one ``(1, 3, H', W')`` image with white gaps."""
    n, c, h, w = images.shape
    rows = math.ceil(n / cols)
    grid = torch.ones(3, rows * (h + pad) + pad, cols * (w + pad) + pad)
    for k in range(n):
        r, q = divmod(k, cols)
        y, x = pad + r * (h + pad), pad + q * (w + pad)
        grid[:, y : y + h, x : x + w] = images[k].float().clamp(0, 1).expand(3, h, w)
    grid = grid[None]
    if scale > 1:
        grid = torch.nn.functional.interpolate(grid, scale_factor=scale, mode="nearest")
    return grid


def confusion_figure(cm: torch.Tensor, classes, path: Path) -> None:
    plt = pyplot()
    norm = cm.float() / cm.sum(1, keepdim=True).clamp(min=1)
    fig, ax = plt.subplots(figsize=(6.4, 5.6), dpi=90)
    ax.imshow(norm.numpy(), cmap="Blues", vmin=0, vmax=1)
    for i in range(len(classes)):
        for j in range(len(classes)):
            if cm[i, j]:
                ax.text(
                    j,
                    i,
                    int(cm[i, j]),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if norm[i, j] > 0.5 else "black",
                )
    ax.set_xticks(range(len(classes)), classes, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(classes)), classes, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    acc = float(cm.diag().sum() / cm.sum())
    ax.set_title(f"test accuracy {100 * acc:.2f}%", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


def filters_figure(weight: torch.Tensor, path: Path) -> None:
    """First-layer kernels ``(K, C, k, k)``: blue negative, red positive, one scale per kernel."""
    plt = pyplot()
    w = weight.detach().float().mean(1)  # over input channels
    cols = 8
    rows = math.ceil(len(w) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, rows * 0.9), dpi=90)
    for k, ax in enumerate(np.atleast_1d(axes).ravel()):
        ax.axis("off")
        if k < len(w):
            m = float(w[k].abs().max()) or 1.0
            ax.imshow(w[k].numpy(), cmap="RdBu_r", vmin=-m, vmax=m)
    fig.suptitle("conv1 filters", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


def _maps_grid(acts: torch.Tensor, cols: int, scale: int) -> np.ndarray:
    """Channels ``(K, h, w)``, each scaled to [0, 1] on its own, as one grey mosaic."""
    flat = acts.flatten(1)
    lo, hi = flat.min(1).values, flat.max(1).values
    norm = (acts - lo[:, None, None]) / (hi - lo).clamp(min=1e-8)[:, None, None]
    return image_grid(norm[:, None], cols, pad=1, scale=scale)[0, 0].numpy()


def feature_maps_figure(stages: dict[str, torch.Tensor], path: Path, label: str) -> None:
    """The input, and every channel of conv1 and conv2 (after ReLU) for one image."""
    plt = pyplot()
    c1, c2 = stages["conv1"][0], stages["conv2"][0]
    scale2 = max(1, c1.shape[-1] // c2.shape[-1])
    panels = [
        (stages["input"][0, 0].numpy(), label),
        (_maps_grid(c1, 8, 1), f"conv1 + ReLU: {len(c1)} maps"),
        (_maps_grid(c2, 8, scale2), f"conv2 + ReLU: {len(c2)} maps (shown x{scale2})"),
    ]
    widths = [1, 3, 3]
    fig, axes = plt.subplots(1, 3, figsize=(12, 6), dpi=90, width_ratios=widths)
    for ax, (img, title) in zip(axes, panels, strict=True):
        ax.imshow(img, cmap="magma" if ax is not axes[0] else "gray", vmin=0, vmax=1)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    save_figure(fig, path)


def curves_figure(rows: list[dict], series: dict[str, str], path: Path, title: str) -> None:
    """Plot columns of the log against epochs; ``series`` maps column -> label."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.4), dpi=90)
    for key, label in series.items():
        ax.plot([r["epoch"] for r in rows], [r[key] for r in rows], "o-", ms=3, label=label)
    ax.set_xlabel("epoch")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def write_cnn_report(run: Path, model, data, rows, cm: torch.Tensor, summary: dict) -> None:
    confusion_figure(cm, data.classes, run / "confusion.png")
    header = ["true \\ predicted", *data.classes]
    table = [
        dict(zip(header, [name, *map(int, cm[i])], strict=True))
        for i, name in enumerate(data.classes)
    ]
    write_csv_atomic(run / "confusion.csv", table, header)
    filters_figure(model.conv1.weight, run / "filters.png")
    with torch.no_grad():
        model.eval()
        stages = model.stages(data.test_x[:1])
    pred = data.classes[int(stages["logits"].argmax())]
    feature_maps_figure(
        stages, run / "features.png", f"{data.classes[int(data.test_y[0])]} -> {pred}"
    )
    curves_figure(
        rows,
        {"train_accuracy": "train (running)", "test_accuracy": "test"},
        run / "curves.png",
        "accuracy",
    )
    save_image(image_grid(data.test_x[:32], 8, scale=2), run / "examples.png")
    write_text_atomic(run / "metrics.json", json.dumps(summary, indent=2))
    write_gallery(
        run / "index.html",
        f"photogen learn cnn: {data.name}",
        [
            Section(
                "Result",
                [
                    Tile("confusion.png", "confusion matrix (test set)"),
                    Tile("curves.png", "accuracy per epoch"),
                ],
                summary,
            ),
            Section(
                "What the network learned",
                [
                    Tile("filters.png", "first-layer 3x3 filters"),
                    Tile("features.png", "feature maps of the first test image"),
                ],
            ),
            Section("Test images", [Tile("examples.png", "the first 32 test images")]),
        ],
    )
