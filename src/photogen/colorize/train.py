"""Training colorization networks (Zhang et al. 2016, Sec. 2): ``photogen colorize train``.

One step: random crops (176 by default) of the training photos -> L and ab; ground-truth ab
averaged over 4x4 blocks (the logits' resolution), soft-encoded over the 313 bins (k nearest,
Gaussian sigma 5); loss = class-rebalanced cross-entropy, each pixel weighted by the
rebalancing weight of its nearest bin; crops whose |ab| never exceeds 5 (grey photos) are left
out, as in the authors' code. Adam with betas (0.9, 0.99).

Everything to continue a run exactly is checkpointed atomically every ``save_every`` steps:
model, optimizer, scheduler, step, log, and the RNG state of every process. Under ``torchrun``
(``WORLD_SIZE`` > 1) it runs DistributedDataParallel (gloo on CPU, NCCL on GPUs); the batch
size is per process and only rank 0 writes files.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from photogen.colorize.bins import gamut_bins, rebalance_weights, soft_encode
from photogen.colorize.data import (
    bin_histogram,
    center_crops,
    load_photos,
    random_crops,
    split_lab,
    split_train_val,
)
from photogen.colorize.hints import recolor, simulate_hints
from photogen.colorize.prior import load_prior, save_prior
from photogen.colorize.runfiles import plot_run, save_weights, val_gallery, write_log
from photogen.core.atomic import write_text_atomic
from photogen.core.training import TrainingRun

HINT_LR_FACTOR = 4.0  # the hint branch's learning rate over the decoder's
HINT_LOSS_WEIGHT = 9.0  # extra weight of the pixels under a simulated hint
DEFAULTS = {
    # model: (learning rate, weight decay)
    "lite": (5e-4, 1e-5),
    "lite-hints": (5e-4, 1e-5),  # lite + the user-hint branch (Zhang et al. 2017)
    "eccv16": (3e-5, 1e-3),  # the authors' settings
}


@dataclass
class TrainConfig:
    data: list[str]
    run_dir: str
    model: str = "lite"
    steps: int = 2000
    batch_size: int = 16
    crop: int = 176
    lr: float | None = None
    weight_decay: float | None = None
    betas: tuple[float, float] = (0.9, 0.99)
    k: int = 5
    sigma: float = 5.0
    lam: float = 0.5
    prior: str | None = None
    val_fraction: float = 0.05
    val_every: int = 250
    save_every: int = 100
    cache_side: int = 256
    seed: int = 0
    init: str | None = None  # weights to start from (fine-tuning)
    warmup: int = 100
    freeze_encoder: bool = False  # lite only: see param_groups
    recolor: float = 0.0  # lite-hints: fraction of photos given a random hue (hints.recolor)
    recolor_regional: float = 0.0  # of those, the fraction turned in a lightness band only
    extra: dict = field(default_factory=dict)

    def resolved(self) -> TrainConfig:
        if self.model not in DEFAULTS:
            raise ValueError(f"model must be one of {', '.join(DEFAULTS)}, got {self.model!r}")
        lr, wd = DEFAULTS[self.model]
        self.lr = lr if self.lr is None else self.lr
        self.weight_decay = wd if self.weight_decay is None else self.weight_decay
        if self.crop % 8 or self.crop < 32:
            raise ValueError(f"crop must be a multiple of 8 and >= 32, got {self.crop}")
        if self.steps < 1 or self.batch_size < 1:
            raise ValueError("steps and batch_size must be >= 1")
        return self


class _Logits(nn.Module):
    """Wraps a colorizer so that DDP's forward is its ``logits``."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, l_channel: torch.Tensor, hints_ab=None, hints_mask=None) -> torch.Tensor:
        if hints_ab is None:
            return self.net.logits(l_channel)
        return self.net.logits(l_channel, hints_ab, hints_mask)


def build_model(name: str, init: str | None = None) -> nn.Module:
    """A trainable colorizer: ``lite`` (ImageNet encoder), ``lite-hints`` (lite with the user-hint
    branch; from ``init``, e.g. the bundled ``lite``, its branch starting at zero) or ``eccv16``
    (random or ``init``)."""
    from photogen.colorize.lite import LiteColorizer
    from photogen.colorize.models import ECCV16
    from photogen.core.weights import load_state_dict

    if name in ("lite", "lite-hints"):
        model = LiteColorizer(hints=name == "lite-hints")
        if init is None:
            model.load_encoder(load_state_dict("efficientnet_lite0"))
    elif name == "eccv16":
        model = ECCV16()
    else:
        raise ValueError(f"cannot train {name!r}; choose lite, lite-hints or eccv16")
    if init is not None:
        spec = "colorize-lite" if init == "lite" else init
        model.load_state_dict(load_state_dict(spec), strict=False)
    return model


def param_groups(model: nn.Module, lr: float, freeze_encoder: bool = False) -> list[dict]:
    """Trainable parameter groups.

    ``lite``: the decoder at ``lr``; the encoder's stride-8-and-deeper blocks fine-tuned at a
    tenth of it (its stem and stride-2/4 blocks stay at their ImageNet weights).
    ``freeze_encoder`` trains the decoder alone: 1.4x faster steps, but measured worse on the
    held-out photos (1000 steps frozen: AuC 81.5 / rebalanced 66.9; 1500 steps fine-tuned:
    84.0 / 69.3, grey 84.5 / 63.7; see docs/models/colorize-lite.md).
    """
    if hasattr(model, "frozen_parameters"):
        frozen = model.frozen_parameters()
        if freeze_encoder:
            frozen += model.encoder_parameters()
        for p in frozen:
            p.requires_grad_(False)
        groups = [{"params": model.decoder_parameters(), "lr": lr}]
        if getattr(model, "hints", False):  # lite-hints: the new branch starts from zero
            groups.append({"params": model.hint_parameters(), "lr": lr * HINT_LR_FACTOR})
        if not freeze_encoder:
            groups.append({"params": model.encoder_parameters(), "lr": lr * 0.1})
        return groups
    return [{"params": [p for p in model.parameters() if p.requires_grad], "lr": lr}]


def colorization_loss(
    logits: torch.Tensor,
    ab: torch.Tensor,
    class_weights: torch.Tensor,
    bins: torch.Tensor,
    k: int = 5,
    sigma: float = 5.0,
    hints_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Class-rebalanced soft cross-entropy (eq. 2 with the weights of eq. 3-4); pixels under
    a simulated hint (``hints_mask`` ``(B, 1, H, W)``) weigh ``1 + HINT_LOSS_WEIGHT``.

    Args:
        logits: ``(B, Q, h, w)`` at 1/4 of the crop's resolution.
        ab: ``(B, 2, H, W)`` ground truth at full resolution.
        class_weights: ``(Q,)`` rebalancing weights.
    """
    h, w = logits.shape[-2:]
    target_ab = F.adaptive_avg_pool2d(ab, (h, w))
    hint_mask = None if hints_mask is None else F.adaptive_max_pool2d(hints_mask, (h, w))[:, 0]
    z = soft_encode(target_ab, bins, k=k, sigma=sigma)
    pixel_w = class_weights.to(z)[z.argmax(1)]  # weight of the nearest bin
    colourful = (ab.abs().amax(dim=(1, 2, 3)) > 5.0).to(z)  # grey crops carry no colour signal
    ce = -(z * F.log_softmax(logits.float(), dim=1)).sum(1)
    weight = pixel_w * colourful[:, None, None]
    if hint_mask is not None:  # where a hint was given, its colour must come out
        weight = weight * (1.0 + HINT_LOSS_WEIGHT * hint_mask)
    denom = (colourful.sum() * h * w).clamp_min(1.0)
    return (ce * weight).sum() / denom


def model_hints(model: nn.Module) -> bool:
    """Whether ``model`` takes user hints (lite-hints)."""
    return bool(getattr(model, "hints", False))


def _training_hints(ab: torch.Tensor, fraction: float, l_channel=None, regional: float = 0.0):
    """siggraph17's simulated hints, on photos of which ``fraction`` are recoloured
    (``hints.recolor``); a recoloured photo that drew no hint keeps its true colours (with no
    hint its new colours could not be known). Returns ``(ab, hints_ab, mask)``."""
    if fraction <= 0:
        return (ab, *simulate_hints(ab))
    turned_ab, turned = recolor(ab, fraction, l_channel=l_channel, regional=regional)
    hints_ab, mask = simulate_hints(turned_ab)
    keep = turned & (mask.flatten(1).amax(1) > 0)
    # untouched photos: turned_ab == ab; a turned photo with no hint has hints_ab == 0 anyway
    return torch.where(keep.view(-1, 1, 1, 1), turned_ab, ab), hints_ab, mask


def _lr_lambda(warmup: int, steps: int) -> Callable[[int], float]:
    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        t = (step - warmup) / max(1, steps - warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))

    return f


@torch.no_grad()
def _validate(model, val_rgb, class_weights, bins, cfg, device) -> float:
    model.eval()
    losses = []
    for i in range(0, len(val_rgb), 8):
        rgb = val_rgb[i : i + 8].to(device)
        l_ch, ab = split_lab(rgb)
        hints = simulate_hints(ab, torch.Generator().manual_seed(i)) if model_hints(model) else ()
        logits = model.logits(l_ch, *hints)
        losses.append(float(colorization_loss(logits, ab, class_weights, bins, cfg.k, cfg.sigma)))
    model.train()
    return sum(losses) / max(1, len(losses))


def train(
    cfg: TrainConfig,
    device: torch.device,
    resume: bool = False,
    progress: Callable | None = None,
    log: Callable[[str], None] = lambda msg: None,
) -> dict:
    """Train (or resume) a run in ``cfg.run_dir``; return a summary dict.

    Files in the run folder: ``checkpoint.pt`` (resumable state), ``model.safetensors`` (the
    weights, at every save), ``prior.safetensors``, ``log.csv``, ``loss.png``,
    ``gallery/index.html`` (validation colorizations) and ``config.json``.
    """
    cfg = cfg.resolved()
    job = TrainingRun(cfg.run_dir, resume, cfg.seed, device)
    world, device, main, run_dir = job.world, job.device, job.main, job.dir
    job.seed_rank()
    images, paths = load_photos(
        cfg.data, cfg.cache_side, min(64, cfg.crop), on_error=log if main else lambda m: None
    )
    if len(images) < 2:
        raise ValueError(f"need at least 2 readable photos to train, found {len(images)}")
    train_idx, val_idx = split_train_val(len(images), cfg.val_fraction, cfg.seed)
    train_images = [images[i] for i in train_idx]
    val_images = [images[i] for i in val_idx]
    bins = gamut_bins().to(device)

    prior_path = Path(cfg.prior) if cfg.prior else run_dir / "prior.safetensors"
    if cfg.prior or prior_path.exists():
        prior = load_prior(prior_path)
    else:
        counts = bin_histogram(train_images)
        if main:
            save_prior(prior_path, counts, len(train_images))
        prior = counts / counts.sum()
    class_weights = rebalance_weights(prior, cfg.lam, cfg.sigma).to(device)

    model = build_model(cfg.model, cfg.init).to(device)
    groups = param_groups(model, cfg.lr, cfg.freeze_encoder)
    opt = torch.optim.Adam(groups, lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(cfg.warmup, cfg.steps))
    net = job.wrap(_Logits(model))

    step, rows = 0, []
    payload = job.restore(model=model, optimizer=opt, scheduler=sched)
    if payload is not None:
        step, rows = int(payload["step"]), list(payload["log"])
    if main:
        config = {**asdict(cfg), "world_size": world, "images": len(images)}
        write_text_atomic(run_dir / "config.json", json.dumps(config, indent=2))
        log(
            f"{len(train_images)} training photos, {len(val_images)} held out; model {cfg.model}, "
            f"{sum(p.numel() for p in model.parameters()):,} parameters; world size {world}"
        )
    val_rgb = center_crops(val_images, cfg.crop) if val_images else None

    def checkpoint() -> None:
        job.save(model=model, optimizer=opt, scheduler=sched, step=step, log=rows)
        if main:
            meta = {"steps": step, "crop": cfg.crop, "temperature": 0.38}
            save_weights(model, run_dir / "model.safetensors", cfg.model, meta)
            write_log(run_dir / "log.csv", rows)
            plot_run(run_dir, rows)

    model.train()
    t0 = time.perf_counter()
    it = range(step, cfg.steps)
    bar = progress(it, initial=step, total=cfg.steps) if (progress and main) else it
    for _ in bar:
        rgb = random_crops(train_images, cfg.batch_size, cfg.crop).to(device)
        l_ch, ab = split_lab(rgb)
        hints = (_training_hints(ab, cfg.recolor, l_ch, cfg.recolor_regional)
                 if model_hints(model) else ())  # fmt: skip
        if hints:
            ab, hints = hints[0], hints[1:]
        mask = hints[1] if hints else None
        loss = colorization_loss(net(l_ch, *hints), ab, class_weights, bins, cfg.k, cfg.sigma, mask)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        step += 1
        value = float(loss.detach())
        if world > 1:
            t = torch.tensor([value], device=device)
            dist.all_reduce(t)
            value = float(t) / world
        row = {
            "step": step,
            "loss": round(value, 5),
            "val_loss": "",
            "lr": opt.param_groups[0]["lr"],
            "seconds": round(time.perf_counter() - t0, 2),
        }
        if main and val_rgb is not None and (step % cfg.val_every == 0 or step == cfg.steps):
            row["val_loss"] = round(_validate(model, val_rgb, class_weights, bins, cfg, device), 5)
            val_gallery(model, val_images, run_dir, step, device)
        rows.append(row)
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(loss=f"{value:.3f}")
        if step % cfg.save_every == 0 or step == cfg.steps:
            checkpoint()
    job.finish()
    return {
        "steps": step,
        "final_loss": rows[-1]["loss"] if rows else None,
        "run_dir": str(run_dir),
    }
