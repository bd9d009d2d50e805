"""Training a PixelCNN (``photogen pixelcnn train``): maximum likelihood with Adam.

The run folder holds ``checkpoint.pt`` (model, optimizer, step, log, RNG: ``--resume``
continues exactly), ``model.safetensors`` (weights + config as metadata), ``log.csv``,
``loss.png`` (train and held-out bits/dim) and ``samples/step_N.png`` (a grid of samples from
the fast sampler every ``sample_every`` steps).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from photogen.core.atomic import write_csv_atomic, write_text_atomic
from photogen.core.gallery import pyplot, save_figure
from photogen.core.image import save_image
from photogen.core.training import TrainingRun
from photogen.core.weights import load_run_model, save_safetensors
from photogen.pixelcnn.data import PatchSampler, load_source
from photogen.pixelcnn.model import PixelCNN, PixelCNNConfig


@dataclass
class TrainConfig:
    source: str
    run_dir: str
    patch: int = 32
    steps: int = 2000
    batch_size: int = 16
    lr: float = 1e-3
    flips: bool = False
    grey: bool = False
    size: int | None = None  # folders: image side
    hidden: int = 96
    layers: int = 8
    kernel: int = 3
    first_kernel: int = 7
    output: str = "softmax"
    mixtures: int = 5
    conditional: bool = False
    save_every: int = 200
    sample_every: int = 500
    val_every: int = 200
    seed: int = 0


def save_model(model: PixelCNN, path: Path, meta: dict) -> None:
    metadata = {"format": "photogen-pixelcnn", "config": json.dumps(model.config.to_dict()), **meta}
    save_safetensors(model.state_dict(), path, metadata)


def load_model(path: str | Path) -> PixelCNN:
    """A trained PixelCNN from ``model.safetensors`` or its run folder."""
    return load_run_model(path, "photogen-pixelcnn", lambda c: PixelCNN(PixelCNNConfig(**c)),
                          "a pixelcnn run folder or model.safetensors")  # fmt: skip


def sample_grid(samples: torch.Tensor, cols: int = 4, pad: int = 2) -> torch.Tensor:
    """``(n, C, H, W)`` levels -> one ``(1, 3, H', W')`` image in ``[0, 1]``, white gaps."""
    n, c, h, w = samples.shape
    rows = math.ceil(n / cols)
    grid = torch.ones(3, rows * (h + pad) - pad, cols * (w + pad) - pad)
    for k in range(n):
        r, q = divmod(k, cols)
        tile = samples[k].float().div(255.0).expand(3, h, w)
        grid[:, r * (h + pad) : r * (h + pad) + h, q * (w + pad) : q * (w + pad) + w] = tile
    return grid[None]


def _plot(path: Path, rows: list[dict]) -> None:
    plt = pyplot()
    steps = [r["step"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    ax.plot(steps, [r["bits_per_dim"] for r in rows], color="0.7", lw=0.7, label="train batch")
    val = [(r["step"], r["val_bits_per_dim"]) for r in rows if r["val_bits_per_dim"] != ""]
    if val:
        ax.plot(*zip(*val, strict=True), "o-", color="C1", label="held out")
    ax.set_xlabel("step")
    ax.set_ylabel("bits / dim")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


@torch.no_grad()
def held_out_bits(model: PixelCNN, sampler: PatchSampler, device, batch: int = 32) -> float:
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(sampler.val_x), batch):
        x = sampler.val_x[i : i + batch].to(device)
        y = (
            None
            if sampler.val_y is None or not model.config.num_classes
            else sampler.val_y[i : i + batch].to(device)
        )
        total += float(model.nll(x, y).sum())
        count += x.numel()
    model.train()
    return total / (count * math.log(2))


def train(
    cfg: TrainConfig,
    device: torch.device,
    resume: bool = False,
    progress: Callable | None = None,
    log: Callable[[str], None] = lambda msg: None,
) -> dict:
    """Train (or resume) the run in ``cfg.run_dir``; return a summary."""
    from photogen.pixelcnn.sample import sample_fast

    job = TrainingRun(cfg.run_dir, resume, cfg.seed, device, distributed=False)
    run = job.dir
    source = load_source(cfg.source, cfg.size, cfg.grey)
    sampler = PatchSampler(source, cfg.patch, cfg.flips)
    mcfg = PixelCNNConfig(
        channels=source.channels, hidden=cfg.hidden, layers=cfg.layers, kernel=cfg.kernel,
        first_kernel=cfg.first_kernel, output=cfg.output, mixtures=cfg.mixtures,
        num_classes=source.num_classes if cfg.conditional else 0,
    )  # fmt: skip
    job.seed_rank()
    model = PixelCNN(mcfg).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    step, rows = 0, []
    payload = job.restore(model=model, optimizer=opt)
    if payload is not None:
        step, rows = int(payload["step"]), list(payload["log"])
    write_text_atomic(
        run / "config.json", json.dumps({**asdict(cfg), "model": mcfg.to_dict()}, indent=2)
    )
    log(f"{source.name}: {len(source.train)} training image(s), {cfg.patch}px patches; "
        f"{sum(p.numel() for p in model.parameters()):,} parameters")  # fmt: skip

    def checkpoint() -> None:
        job.save(model=model, optimizer=opt, step=step, log=rows)
        save_model(model, run / "model.safetensors", {"steps": step, "patch": cfg.patch})
        write_csv_atomic(
            run / "log.csv", rows, ["step", "bits_per_dim", "val_bits_per_dim", "seconds"]
        )
        _plot(run / "loss.png", rows)

    model.train()
    t0 = time.perf_counter()
    bar = progress(total=cfg.steps, initial=step) if progress else None
    while step < cfg.steps:
        x, y = sampler.batch(cfg.batch_size)
        x = x.to(device)
        y = y.to(device) if (y is not None and mcfg.num_classes) else None
        loss = model.bits_per_dim(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        row = {"step": step, "bits_per_dim": round(float(loss.detach()), 5), "val_bits_per_dim": "",
               "seconds": round(time.perf_counter() - t0, 2)}  # fmt: skip
        if step % cfg.val_every == 0 or step == cfg.steps:
            row["val_bits_per_dim"] = round(held_out_bits(model, sampler, device), 5)
        rows.append(row)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(bpd=f"{float(loss.detach()):.3f}")
        if step % cfg.sample_every == 0 or step == cfg.steps:
            with torch.random.fork_rng():
                labels = (
                    torch.arange(8, device=device) % mcfg.num_classes if mcfg.num_classes else None
                )
                s = sample_fast(model, 8, (cfg.patch, cfg.patch), seed=step, y=labels)
            model.train()
            save_image(sample_grid(s), run / "samples" / f"step_{step:06d}.png")
        if step % cfg.save_every == 0 or step == cfg.steps:
            checkpoint()
    if bar is not None:
        bar.close()
    last_val = next(
        (r["val_bits_per_dim"] for r in reversed(rows) if r["val_bits_per_dim"] != ""), None
    )
    return {"steps": step, "val_bits_per_dim": last_val, "run_dir": str(run)}
