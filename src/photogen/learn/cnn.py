"""A small convolutional classifier, written to be read: conv (zero padding) -> ReLU -> max pool,
twice, then fully connected layers and a softmax (inside the cross-entropy loss).

``train_cnn`` (``photogen learn cnn``) trains it with Adam and a cosine learning-rate decay,
with horizontal flips for Fashion-MNIST. The run folder holds ``checkpoint.pt`` (model,
optimizer, scheduler, position, running sums, RNG: ``--resume`` continues exactly),
``model.safetensors`` (weights + config), ``log.csv``, ``curves.png``, and at the end
``confusion.png``/``confusion.csv``, ``filters.png``, ``features.png``, ``metrics.json`` and
``index.html``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from photogen.core.atomic import write_csv_atomic, write_text_atomic
from photogen.core.training import TrainingRun
from photogen.core.weights import load_run_model, save_safetensors
from photogen.learn.data import ImageSet, load_dataset
from photogen.learn.loop import (
    Position,
    batch_indices,
    batches_per_epoch,
    epoch_plan,
)

FORMAT = "photogen-learn-cnn"


class SmallCNN(nn.Module):
    """``(N, C, S, S)`` images in [0, 1] -> ``(N, classes)`` logits; S divisible by 4."""

    def __init__(self, in_channels=1, classes=10, size=28, width=32, hidden=128, dropout=0.3):
        super().__init__()
        if size % 4:
            raise ValueError(f"image side must be divisible by 4, got {size}")
        self.config = dict(
            in_channels=in_channels,
            classes=classes,
            size=size,
            width=width,
            hidden=hidden,
            dropout=dropout,
        )
        self.conv1 = nn.Conv2d(in_channels, width, 3, padding=1)  # zero padding keeps S x S
        self.conv2 = nn.Conv2d(width, 2 * width, 3, padding=1)
        self.fc1 = nn.Linear(2 * width * (size // 4) ** 2, hidden)
        self.fc2 = nn.Linear(hidden, classes)
        self.dropout = nn.Dropout(dropout)

    def stages(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every intermediate result, by name (for the feature-map pictures)."""
        out = {"input": x}
        out["conv1"] = F.relu(self.conv1(x - 0.5))
        out["pool1"] = F.max_pool2d(out["conv1"], 2)
        out["conv2"] = F.relu(self.conv2(out["pool1"]))
        out["pool2"] = F.max_pool2d(out["conv2"], 2)
        out["fc1"] = F.relu(self.fc1(out["pool2"].flatten(1)))
        out["logits"] = self.fc2(self.dropout(out["fc1"]))
        return out

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The ``hidden``-dimensional features before the classifier (for Frechet distances)."""
        return self.stages(x)["fc1"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(x)["logits"]


def save_cnn(model: SmallCNN, path: Path, meta: dict) -> None:
    save_safetensors(
        model.state_dict(), path, {"format": FORMAT, "config": json.dumps(model.config), **meta}
    )


def load_cnn(path: str | Path) -> SmallCNN:
    """A model written by :func:`train_cnn` (run folder or ``model.safetensors``), in eval mode."""
    return load_run_model(path, FORMAT, lambda config: SmallCNN(**config),
                          "a cnn run folder or model.safetensors")  # fmt: skip


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, device, batch: int = 500) -> torch.Tensor:
    was = model.training
    model.eval()
    out = torch.cat(
        [model(x[i : i + batch].to(device)).argmax(1).cpu() for i in range(0, len(x), batch)]
    )
    model.train(was)
    return out


def confusion_matrix(pred: torch.Tensor, truth: torch.Tensor, classes: int) -> torch.Tensor:
    """``cm[i, j]``: items of true class ``i`` predicted as ``j``."""
    return torch.bincount(truth * classes + pred, minlength=classes * classes).view(
        classes, classes
    )


@dataclass
class CNNConfig:
    dataset: str
    run_dir: str
    epochs: int = 8
    batch_size: int = 64
    lr: float = 1e-3
    width: int = 32
    hidden: int = 128
    dropout: float = 0.3
    flips: bool | None = None  # None: on for fashion-mnist only (digits are not symmetric)
    limit: int | None = None
    test_limit: int | None = None
    save_every: int = 200
    seed: int = 0


def cnn_step(model, opt, sched, x, y) -> tuple[float, int]:
    """One SGD step on a batch; return (summed loss, correct predictions) before the update."""
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    if sched is not None:
        sched.step()
    return float(loss.detach()) * len(y), int((logits.argmax(1) == y).sum())


def train_cnn(
    cfg: CNNConfig,
    device: torch.device,
    resume: bool = False,
    progress: Callable | None = None,
    log: Callable[[str], None] = lambda msg: None,
    data: ImageSet | None = None,
) -> dict:
    """Train (or resume) the run in ``cfg.run_dir``; return a summary with the test accuracy."""
    from photogen.learn.figures import write_cnn_report

    job = TrainingRun(cfg.run_dir, resume, cfg.seed, device, distributed=False)
    run = job.dir
    data = data or load_dataset(cfg.dataset, cfg.limit, cfg.test_limit)
    flips = cfg.flips if cfg.flips is not None else data.name == "fashion-mnist"
    job.seed_rank()
    model = SmallCNN(
        data.channels, len(data.classes), data.size, cfg.width, cfg.hidden, cfg.dropout
    ).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    per_epoch = batches_per_epoch(len(data.train_x), cfg.batch_size)
    total = cfg.epochs * per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total))
    )
    pos, rows, sums = Position(), [], {"loss": 0.0, "correct": 0, "seen": 0, "seconds": 0.0}
    payload = job.restore(model=model, optimizer=opt, scheduler=sched)
    if payload is not None:
        pos, rows, sums = Position(**payload["position"]), list(payload["log"]), payload["sums"]
    write_text_atomic(run / "config.json", json.dumps({**asdict(cfg), "flips": flips}, indent=2))
    log(
        f"{data.name}: {len(data.train_x)} training / {len(data.test_x)} test images, "
        f"{sum(p.numel() for p in model.parameters()):,} parameters"
    )

    def checkpoint() -> None:
        job.save(
            model=model,
            optimizer=opt,
            scheduler=sched,
            position=pos.to_dict(),
            log=rows,
            sums=sums,
        )
        save_cnn(model, run / "model.safetensors", {"dataset": data.name, "step": pos.step})

    model.train()
    bar = progress(total=total, initial=pos.step) if progress else None
    pred = None  # the test set's predictions after the last epoch trained
    t_start = time.perf_counter() - sums["seconds"]
    while pos.epoch < cfg.epochs:
        order, coin = epoch_plan(len(data.train_x), cfg.seed, pos.epoch)
        while pos.batch < per_epoch:
            idx = batch_indices(order, pos.batch, cfg.batch_size)
            x = data.train_x[idx]
            if flips:
                x = torch.where(coin[idx, None, None, None], x.flip(-1), x)
            loss, correct = cnn_step(model, opt, sched, x.to(device), data.train_y[idx].to(device))
            sums["loss"] += loss
            sums["correct"] += correct
            sums["seen"] += len(idx)
            pos.batch += 1
            pos.step += 1
            sums["seconds"] = time.perf_counter() - t_start
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{sums['loss'] / sums['seen']:.3f}")
            if pos.step % cfg.save_every == 0 and pos.batch < per_epoch:
                checkpoint()
        pred = predict(model, data.test_x, device)
        test_acc = float((pred == data.test_y).float().mean())
        rows.append(
            {
                "epoch": pos.epoch + 1,
                "step": pos.step,
                "train_loss": round(sums["loss"] / sums["seen"], 5),
                "train_accuracy": round(sums["correct"] / sums["seen"], 5),
                "test_accuracy": round(test_acc, 5),
                "seconds": round(sums["seconds"], 1),
            }
        )
        log(
            f"epoch {pos.epoch + 1}/{cfg.epochs}: train loss {rows[-1]['train_loss']:.4f}, "
            f"test accuracy {100 * test_acc:.2f}%"
        )
        pos.epoch, pos.batch = pos.epoch + 1, 0
        sums.update(loss=0.0, correct=0, seen=0)
        write_csv_atomic(run / "log.csv", rows, list(rows[-1]))
        checkpoint()
    if bar is not None:
        bar.close()
    if pred is None:  # resumed after the last epoch: nothing trained in this call
        pred = predict(model, data.test_x, device)
    cm = confusion_matrix(pred, data.test_y, len(data.classes))
    summary = {
        "dataset": data.name,
        "epochs": cfg.epochs,
        "steps": pos.step,
        "test_accuracy": round(float((pred == data.test_y).float().mean()), 5),
        "train_seconds": round(sums["seconds"], 1),
        "run_dir": str(run),
    }
    write_cnn_report(run, model.cpu(), data, rows, cm, summary)
    return summary
