"""The lecture's playground slides: capacity and regularisation of a multi-layer perceptron."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from photogen.core.gallery import pyplot, save_figure
from photogen.experiments import verdicts
from photogen.experiments.base import Experiment, Outcome, Settings


def mlp_capacity(folder: Path, s: Settings) -> Outcome:
    from photogen.learn.playground import PlaygroundConfig, lambda_figure, regions_figure

    cfg = PlaygroundConfig(seed=s.seed, epochs=20 if s.tiny else (400 if s.full else 200),
                           points=200 if s.tiny else 400)  # fmt: skip
    _, found = regions_figure(cfg, folder / "regions.png")
    _, lam = lambda_figure(cfg, folder / "lambda.png")
    acc = found["accuracy"]
    datasets = sorted({k.split(" / ")[0] for k in acc})
    models = [k.split(" / ")[1] for k in acc if k.startswith(datasets[0] + " / ")]
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.8), dpi=90)
    for d in datasets:
        ax.plot(models, [acc[f"{d} / {m}"] for m in models], marker="o", label=d)
    ax.set(ylabel="test accuracy", title="accuracy against capacity", ylim=(0.4, 1.02))
    ax.tick_params(axis="x", rotation=20)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    save_figure(fig, folder / "capacity.png")
    perceptron = np.mean([acc[f"{d} / perceptron"] for d in datasets if d != "gauss"])
    biggest = np.mean([acc[f"{d} / {models[-1]}"] for d in datasets if d != "gauss"])
    finding = (
        f"mean test accuracy on xor, circle and spiral: perceptron {perceptron:.1%}, "
        f"{models[-1]} {biggest:.1%}; lambda on noisy {cfg.lambda_dataset} (train, "
        f"test): " + ", ".join(f"{k} {v[0]:.0%}/{v[1]:.0%}" for k, v in lam.items())
    )
    setup = (f"{cfg.points} points per dataset (half for test), noise {cfg.noise}, tanh, "
             f"SGD lr {cfg.lr}, {cfg.epochs} epochs; the perceptron is Rosenblatt's (pocket "
             "when it does not converge).")  # fmt: skip
    return Outcome(setup, {"accuracy": acc, "lambda": {k: list(v) for k, v in lam.items()}},
                   ["capacity.png", "regions.png", "lambda.png"], finding)  # fmt: skip


EXPERIMENT = Experiment(
    "mlp-capacity",
    "Capacity and regularisation",
    "A perceptron separates only linearly separable data; hidden units let an MLP draw the "
    "curved regions xor, circle and spiral need; lambda (weight decay) trades training for "
    "test accuracy on noisy data.",
    "the lecture's playground slides (playground.tensorflow.org)",
    run=mlp_capacity,
    verdict=verdicts.mlp_capacity,
)
