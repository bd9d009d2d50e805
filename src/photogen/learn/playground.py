"""The lecture's figures for perceptron and MLP on the 2-D playground datasets.

``make_playground(out_dir)`` writes:

- ``regions_hidden.png``: decision regions on gauss / xor / circle / spiral for a perceptron and
  for MLPs with 3, 6 and 20 hidden units (and two layers of 20), test accuracy in each title;
- ``regions_lambda.png``: the same 20-unit MLP on noisy data for several L2 weights lambda;
- ``loss_surface.png``: the loss E(w1, w2) of a two-weight logistic model, as contours and as a
  surface, with the path gradient descent takes on it;
- ``curves.png``: training and test loss per epoch;
- ``index.html``: all of them on one sheet, with the settings.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from photogen.core.gallery import Section, Tile, pyplot, save_figure, write_gallery
from photogen.learn.mlp import MLP, History, labels01
from photogen.learn.perceptron import train_perceptron
from photogen.learn.toy import DATASETS, make_dataset, split

EXTENT = 6.0


@dataclass
class PlaygroundConfig:
    points: int = 400
    noise: float = 0.1
    epochs: int = 200
    lr: float = 0.05
    batch_size: int = 10
    activation: str = "tanh"
    hidden: tuple[int, ...] = (3, 6, 20)
    lambdas: tuple[float, ...] = (0.0, 0.001, 0.01, 0.05)
    lambda_dataset: str = "xor"
    lambda_noise: float = 0.35
    seed: int = 0


def _grid(steps: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    g = np.linspace(-EXTENT, EXTENT, steps)
    gx, gy = np.meshgrid(g, g)
    return gx, gy, np.c_[gx.ravel(), gy.ravel()]


def _draw_regions(ax, score, Xtr, ytr, Xte, yte, title: str) -> None:
    """``score(points) -> values in [-1, 1]`` (positive = class +1)."""
    gx, gy, pts = _grid()
    ax.contourf(
        gx, gy, score(pts).reshape(gx.shape), levels=np.linspace(-1, 1, 21), cmap="RdBu", alpha=0.75
    )
    for X, y, face in ((Xtr, ytr, None), (Xte, yte, "none")):
        for cls, colour in ((1, "#0b4f9c"), (-1, "#c0392b")):
            sel = y == cls
            ax.scatter(
                X[sel, 0],
                X[sel, 1],
                s=9,
                linewidths=0.7,
                edgecolors=colour,
                facecolors=colour if face is None else face,
            )
    ax.set_xlim(-EXTENT, EXTENT)
    ax.set_ylim(-EXTENT, EXTENT)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)


def _mlp_score(mlp: MLP):
    def score(pts):
        s = mlp.scores(pts)
        p = np.exp(s - s.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        return 2 * p[:, 1] - 1

    return score


def _train_mlp(cfg: PlaygroundConfig, layers, Xtr, ytr, Xte, yte, l2=0.0) -> tuple[MLP, History]:
    mlp = MLP([2, *layers, 2], activation=cfg.activation, l2=l2, seed=cfg.seed)
    hist = mlp.fit(
        Xtr,
        labels01(ytr),
        epochs=cfg.epochs,
        lr=cfg.lr,
        batch_size=cfg.batch_size,
        seed=cfg.seed,
        X_test=Xte,
        y_test=labels01(yte),
    )
    return mlp, hist


def regions_figure(cfg: PlaygroundConfig, path: Path) -> tuple[Path, dict]:
    plt = pyplot()
    models = [("perceptron", None)] + [(f"{h} hidden", (h,)) for h in cfg.hidden]
    models.append(("20 + 20 hidden", (20, 20)))
    fig, axes = plt.subplots(len(DATASETS), len(models), figsize=(2.3 * len(models), 9.4), dpi=90)
    curves, accuracy = {}, {}
    for row, name in enumerate(DATASETS):
        X, y = make_dataset(name, cfg.points, cfg.noise, seed=cfg.seed)
        Xtr, ytr, Xte, yte = split(X, y)
        for col, (label, layers) in enumerate(models):
            if layers is None:
                p = train_perceptron(Xtr, ytr, epochs=100, seed=cfg.seed)
                score = lambda pts, p=p: np.tanh((pts @ p.w + p.b) / np.linalg.norm(p.w))  # noqa: E731
                acc = float((p.predict(Xte) == yte).mean())
                extra = "" if p.converged else " (pocket)"
            else:
                mlp, hist = _train_mlp(cfg, layers, Xtr, ytr, Xte, yte)
                score, acc, extra = _mlp_score(mlp), hist.test_accuracy[-1], ""
                curves[(name, label)] = hist
            accuracy[f"{name} / {label}"] = round(acc, 3)
            _draw_regions(
                axes[row, col],
                score,
                Xtr,
                ytr,
                Xte,
                yte,
                f"{name}: {label}{extra}\ntest {100 * acc:.0f}%",
            )
    fig.tight_layout()
    return save_figure(fig, path), {"accuracy": accuracy, "curves": curves}


def lambda_figure(cfg: PlaygroundConfig, path: Path) -> tuple[Path, dict]:
    plt = pyplot()
    X, y = make_dataset(cfg.lambda_dataset, cfg.points, cfg.lambda_noise, seed=cfg.seed + 1)
    Xtr, ytr, Xte, yte = split(X, y)
    fig, axes = plt.subplots(1, len(cfg.lambdas), figsize=(2.6 * len(cfg.lambdas), 2.9), dpi=90)
    accuracy = {}
    for ax, l2 in zip(np.atleast_1d(axes), cfg.lambdas, strict=True):
        mlp, hist = _train_mlp(cfg, (20,), Xtr, ytr, Xte, yte, l2=l2)
        accuracy[f"lambda={l2:g}"] = (
            round(hist.train_accuracy[-1], 3),
            round(hist.test_accuracy[-1], 3),
        )
        _draw_regions(
            ax,
            _mlp_score(mlp),
            Xtr,
            ytr,
            Xte,
            yte,
            f"lambda = {l2:g}\ntrain {100 * hist.train_accuracy[-1]:.0f}% "
            f"test {100 * hist.test_accuracy[-1]:.0f}%",
        )
    fig.tight_layout()
    return save_figure(fig, path), accuracy


def two_weight_loss(
    w: np.ndarray, X: np.ndarray, t: np.ndarray, l2: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """``E = mean logistic loss of sigmoid(w . x) + l2 ||w||^2`` for ``w (..., 2)``; and dE/dw."""
    z = np.einsum("...k,nk->...n", w, X)
    p = 1.0 / (1.0 + np.exp(-z))
    loss = np.mean(np.logaddexp(0, z) - t * z, axis=-1) + l2 * (w * w).sum(-1)
    grad = np.einsum("...n,nk->...k", p - t, X) / len(t) + 2 * l2 * w
    return loss, grad


def loss_surface_figure(
    cfg: PlaygroundConfig, path: Path, lr: float = 1.0, steps: int = 40, l2: float = 0.05
):
    plt = pyplot()
    X, y = make_dataset("gauss", cfg.points, 1.0, seed=cfg.seed)  # overlapping classes
    X = X / 2.0
    t = labels01(y).astype(np.float64)
    g = np.linspace(-4, 4, 161)
    w1, w2 = np.meshgrid(g, g)
    E, _ = two_weight_loss(np.stack([w1, w2], -1), X, t, l2)
    w = np.array([-3.5, 3.0])
    path_w = [w.copy()]
    for _ in range(steps):
        w = w - lr * two_weight_loss(w, X, t, l2)[1]
        path_w.append(w.copy())
    P = np.array(path_w)
    Ep = two_weight_loss(P, X, t, l2)[0]
    fig = plt.figure(figsize=(10, 4.2), dpi=90)
    ax = fig.add_subplot(1, 2, 1)
    cs = ax.contour(w1, w2, E, levels=25, cmap="viridis")
    ax.clabel(cs, fontsize=6)
    ax.plot(P[:, 0], P[:, 1], "o-", color="#c0392b", ms=3, lw=1)
    ax.set_xlabel("w1")
    ax.set_ylabel("w2")
    ax.set_title(f"E(w1, w2), lambda {l2:g}, and {steps} gradient steps (lr {lr})", fontsize=9)
    ax3 = fig.add_subplot(1, 2, 2, projection="3d")
    ax3.plot_surface(w1, w2, E, cmap="viridis", alpha=0.8, linewidth=0)
    ax3.plot(P[:, 0], P[:, 1], Ep + 0.01, "o-", color="#c0392b", ms=2, lw=1)
    ax3.set_xlabel("w1")
    ax3.set_ylabel("w2")
    ax3.set_zlabel("E")
    fig.tight_layout()
    return save_figure(fig, path), {
        "start": (-3.5, 3.0),
        "end": tuple(np.round(P[-1], 3)),
        "E start": round(float(Ep[0]), 4),
        "E end": round(float(Ep[-1]), 4),
    }


def curves_figure(curves: dict, path: Path) -> Path:
    plt = pyplot()
    names = sorted({name for name, _ in curves}, key=DATASETS.index)
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3), dpi=90)
    for ax, name in zip(np.atleast_1d(axes), names, strict=True):
        for (ds, label), hist in curves.items():
            if ds == name:
                line = ax.plot(hist.loss, label=f"{label} train")[0]
                ax.plot(hist.test_loss, "--", color=line.get_color())
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_title(f"{name} (dashed: test)", fontsize=9)
    np.atleast_1d(axes)[0].set_ylabel("loss")
    np.atleast_1d(axes)[0].legend(fontsize=6)
    fig.tight_layout()
    return save_figure(fig, path)


def make_playground(out_dir: str | os.PathLike, cfg: PlaygroundConfig | None = None) -> dict:
    """Write the four figures and ``index.html``; return the measured accuracies."""
    cfg = cfg or PlaygroundConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    regions, found = regions_figure(cfg, out / "regions_hidden.png")
    lam, lam_acc = lambda_figure(cfg, out / "regions_lambda.png")
    surface, surface_info = loss_surface_figure(cfg, out / "loss_surface.png")
    curves = curves_figure(found["curves"], out / "curves.png")
    settings = {k: v for k, v in vars(cfg).items()}
    sections = [
        Section(
            "Decision regions: capacity",
            [Tile(regions.name, "filled: train, hollow: test")],
            settings,
            "A perceptron draws one line; hidden units bend the boundary. Spiral "
            "needs more than one layer of 20 tanh units.",
        ),
        Section(
            "Decision regions: L2 weight lambda",
            [Tile(lam.name, "20 hidden units")],
            {"dataset": cfg.lambda_dataset, "noise": cfg.lambda_noise},
            "Larger lambda: smaller weights, smoother boundary, less overfitting of noise.",
        ),
        Section(
            "Loss surface of a two-weight model",
            [Tile(surface.name, "logistic loss")],
            surface_info,
            "p = sigmoid(w1 x1 + w2 x2) + lambda ||w||^2 on noisy gauss data; red: gradient "
            "descent from the same start.",
        ),
        Section("Training curves", [Tile(curves.name, "loss per epoch")]),
    ]
    write_gallery(out / "index.html", "photogen learn playground", sections)
    return {
        "accuracy": found["accuracy"],
        "lambda": lam_acc,
        "surface": surface_info,
        "seconds": round(time.perf_counter() - t0, 1),
        "index": str(out / "index.html"),
    }
