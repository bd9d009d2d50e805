"""``photogen colorize eval``: the paper's metrics over a folder, with baselines as rows.

Each photo is centre-cropped to a square and resized to ``size`` (256, what the networks
see); its L goes to every model; the predicted ab is scored against the photo's own ab (grey
photos, whose |ab| never exceeds 5, are skipped and counted: they have no colour to score and
would reward the grey guess with near-infinite PSNR). Rows:
``ground truth`` (its own ab: the ceiling), ``grey`` (ab = 0: the floor the plain AuC rewards),
then every model asked for.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch import nn

from photogen.colorize.data import square_resize
from photogen.colorize.metrics import THRESHOLDS, AccuracyCurve, colourfulness, psnr
from photogen.colorize.pipeline import predict_ab
from photogen.core.atomic import write_text_atomic
from photogen.core.color import lab_to_rgb, rgb_to_lab
from photogen.core.gallery import pyplot, save_figure
from photogen.core.image import ImageError, read_image


def evaluate(
    models: dict[str, nn.Module],
    paths: Sequence[str | os.PathLike],
    size: int = 256,
    device: torch.device | None = None,
    on_error: Callable[[str], None] | None = None,
    progress: Callable | None = None,
) -> dict:
    """Score ``models`` (name -> colorizer) on ``paths``; return a JSON-ready dict."""
    device = device or torch.device("cpu")
    models = {name: model.to(device) for name, model in models.items()}
    rows: dict[str, nn.Module | None] = {"ground truth": None, "grey": None, **models}
    curves = {name: AccuracyCurve() for name in rows}
    scores = {name: {"psnr": [], "colourfulness": []} for name in rows}
    n = grey_skipped = 0
    for path in progress(paths) if progress else paths:
        try:
            rgb = square_resize(read_image(path), size)
        except ImageError as exc:
            if on_error:
                on_error(str(exc))
            continue
        lab = rgb_to_lab(rgb)
        l_ch, ab = lab[:, :1], lab[:, 1:]
        if float(ab.abs().max()) <= 5.0:  # a grey photo: no colour to score (as in training)
            grey_skipped += 1
            continue
        for name, model in rows.items():
            if name == "ground truth":
                pred = ab
            elif name == "grey":
                pred = torch.zeros_like(ab)
            else:
                pred = predict_ab(model, l_ch.to(device), size).cpu()
            out = lab_to_rgb(torch.cat([l_ch, pred], 1))
            curves[name].update(pred, ab)
            scores[name]["psnr"].append(psnr(out, rgb))
            scores[name]["colourfulness"].append(colourfulness(out))
        n += 1
    if n == 0:
        raise ValueError("no readable colour photos to evaluate")
    result = {
        "images": n,
        "grey_skipped": grey_skipped,
        "size": size,
        "thresholds": list(range(THRESHOLDS)),
        "rows": {},
    }
    for name in rows:
        plain, rebalanced = curves[name].curves()
        finite = [p for p in scores[name]["psnr"] if math.isfinite(p)]
        result["rows"][name] = {
            "auc": round(float(plain.mean()) * 100, 2),
            "auc_rebalanced": round(float(rebalanced.mean()) * 100, 2),
            "psnr": round(sum(finite) / len(finite), 2) if finite else None,
            "colourfulness": round(sum(scores[name]["colourfulness"]) / n, 2),
            "curve": [round(float(v), 5) for v in plain],
            "curve_rebalanced": [round(float(v), 5) for v in rebalanced],
        }
    return result


def write_report(result: dict, out_dir: str | os.PathLike) -> tuple[Path, Path]:
    """``metrics.json`` and ``curves.png`` (both cumulative accuracy curves) in ``out_dir``."""
    plt = pyplot()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "metrics.json"
    write_text_atomic(json_path, json.dumps(result, indent=1))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), dpi=100)
    for ax, key, title in (
        (axes[0], "curve", "cumulative pixel accuracy"),
        (axes[1], "curve_rebalanced", "class-rebalanced"),
    ):
        for name, row in result["rows"].items():
            auc = row["auc" if key == "curve" else "auc_rebalanced"]
            ax.plot(result["thresholds"], row[key], label=f"{name} (AuC {auc:.1f})")
        ax.set_xlabel("threshold (L2 distance in ab)")
        ax.set_ylim(0, 1.01)
        ax.set_title(f"{title}, {result['images']} images")
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    png = out / "curves.png"
    save_figure(fig, png)
    return json_path, png
