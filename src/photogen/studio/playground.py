"""The studio's Playground tab: the lecture's MLP playground (numpy backprop on a 2-D
dataset) as a job showing the decision regions and the loss curves. Calls
``photogen.learn``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import torch
from fastapi import Form, Request
from fastapi.responses import JSONResponse

from photogen.studio.context import Studio
from photogen.studio.methods import check_side


def _regions_image(mlp, Xtr, ytr, Xte, yte, side: int = 240, extent: float = 6.0) -> torch.Tensor:
    """Decision regions as the lecture's playground draws them: blue for +1, orange for -1,
    paler where the network is unsure; training points filled, test points as rings."""
    import numpy as np

    g = np.linspace(-extent, extent, side)
    gx, gy = np.meshgrid(g, -g)  # y up
    s = mlp.scores(np.c_[gx.ravel(), gy.ravel()])
    p = np.exp(s - s.max(1, keepdims=True))
    conf = (2 * p[:, 1] / p.sum(1) - 1).reshape(side, side)
    blue, orange = np.array([0.16, 0.45, 0.80]), np.array([0.96, 0.58, 0.16])
    colour = np.where(conf[..., None] > 0, blue, orange)
    img = 1.0 - np.abs(conf)[..., None] * 0.6 * (1.0 - colour)
    for X, y, ring in ((Xtr, ytr, False), (Xte, yte, True)):
        col = ((X[:, 0] + extent) / (2 * extent) * (side - 1)).round().astype(int)
        row = ((extent - X[:, 1]) / (2 * extent) * (side - 1)).round().astype(int)
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                if ring and abs(dy) < 2 and abs(dx) < 2:
                    continue
                r, c = np.clip(row + dy, 0, side - 1), np.clip(col + dx, 0, side - 1)
                img[r, c] = np.where(y[:, None] > 0, blue * 0.7, orange * 0.75)
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))).float()[None]


def playground_job(dataset: str = "circle", noise: float = 0.1, hidden: str = "4,4",
                   activation: str = "tanh", l2: float = 0.0, lr: float = 0.03,
                   epochs: int = 200, points: int = 400, seed: int = 0) -> Callable:  # fmt: skip
    """The lecture's MLP playground: numpy backprop on a 2-D dataset, the decision regions and
    the train/test loss after every epoch (``report``'s image and ``curve``)."""
    from photogen.learn.mlp import MLP, History, labels01
    from photogen.learn.toy import make_dataset, split

    try:
        layers = [int(v) for v in str(hidden).replace(" ", "").split(",") if v]
    except ValueError:
        raise ValueError(f"hidden layers {hidden!r}: expected numbers like 4,4") from None
    if len(layers) > 6 or any(not 1 <= n <= 64 for n in layers):
        raise ValueError("at most 6 hidden layers of 1..64 units")
    epochs = check_side(epochs, "epochs", 1, 5000)
    X, y = make_dataset(dataset, check_side(points, "points", 20, 4000), float(noise), int(seed))
    Xtr, ytr, Xte, yte = split(X, y)
    mlp = MLP([2, *layers, 2], activation=activation, l2=float(l2), seed=int(seed))
    if not 0 < float(lr) <= 10:
        raise ValueError(f"learning rate must be in (0, 10], got {lr}")

    def run(report: Callable, curve: dict | None = None) -> torch.Tensor:
        hist = History()
        for epoch in range(1, epochs + 1):
            mlp.fit(Xtr, labels01(ytr), epochs=1, lr=float(lr), seed=int(seed) * 100_003 + epoch,
                    X_test=Xte, y_test=labels01(yte), history=hist)  # fmt: skip
            if curve is not None:
                curve.update(train=hist.loss, test=hist.test_loss,
                             test_accuracy=hist.test_accuracy[-1])  # fmt: skip
            report(epoch, epochs, hist.loss[-1], lambda: _regions_image(mlp, Xtr, ytr, Xte, yte))
        return _regions_image(mlp, Xtr, ytr, Xte, yte)

    run.wants_curve = True
    return run


def add_playground_routes(app, studio: Studio) -> None:
    """``POST /api/jobs/playground``: a training job for the visitor."""

    @app.post("/api/jobs/playground")
    async def new_playground_job(
        request: Request,
        dataset: Annotated[str, Form()] = "circle",
        noise: Annotated[float, Form()] = 0.1,
        hidden: Annotated[str, Form()] = "4,4",
        activation: Annotated[str, Form()] = "tanh",
        l2: Annotated[float, Form()] = 0.0,
        lr: Annotated[float, Form()] = 0.03,
        epochs: Annotated[int, Form()] = 200,
        seed: Annotated[int, Form()] = 0,
    ) -> JSONResponse:
        session = studio.session_of(request)
        run = playground_job(dataset, noise, hidden, activation, l2, lr, epochs, seed=seed)
        fields = {"dataset": dataset, "noise": noise, "hidden": hidden, "activation": activation,
                  "l2": l2, "lr": lr, "epochs": epochs, "seed": seed}  # fmt: skip
        return JSONResponse(studio.start_job(session, "playground", run, fields))
