"""Training pix2pix (``photogen pix2pix train``): the paper's recipe, resumable exactly.

Recipe (Isola et al. 2017 and the authors' code): G = U-Net 256 with batch norm and dropout,
D = 70x70 PatchGAN on (input, output) pairs; cGAN (vanilla or LSGAN) + 100 * L1, D loss
halved; Adam lr 2e-4, betas (0.5, 0.999); lr constant for ``n_epochs`` then linearly to 0 over
``n_epochs_decay``; init N(0, 0.02); jitter = resize 286, random crop 256, random mirror;
batch size 1.

The run folder holds ``checkpoint.pt`` (G, D, both optimizers and schedulers, epoch, position
in the epoch, step, log, every process's RNG state), ``generator.safetensors``, ``config.json``,
``log.csv``, ``loss.png`` and ``web/index.html`` with (input, output, target) every
``display_every`` steps. ``--resume`` continues exactly where the checkpoint was taken: the
data order and jitter are functions of (seed, epoch, index), and all RNG states are restored.
Under ``torchrun`` every process trains on its share of each epoch with DDP.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import torch
import torch.distributed as dist
from torch import nn

from photogen.core.atomic import write_text_atomic
from photogen.core.training import TrainingRun
from photogen.pix2pix.data import AlignedDataset, collate, epoch_order, find_pairs
from photogen.pix2pix.networks import define_D, define_G, init_weights, min_input_size
from photogen.pix2pix.runfiles import plot_losses, save_generator, write_log, write_triplets
from photogen.pix2pix.step import DiscriminatorPair, Pix2PixStep, make_optimizer


@dataclass
class TrainConfig:
    data: str
    run_dir: str
    netG: str = "unet_256"
    netD: str = "basic"
    n_layers_D: int = 3
    ngf: int = 64
    ndf: int = 64
    norm: str = "batch"
    no_dropout: bool = False
    gan_mode: str = "vanilla"
    lambda_l1: float = 100.0
    lr: float = 2e-4
    beta1: float = 0.5
    n_epochs: int = 100
    n_epochs_decay: int = 100
    batch_size: int = 1
    load_size: int = 286
    crop_size: int = 256
    no_flip: bool = False
    direction: str = "AtoB"
    input_nc: int = 3
    output_nc: int = 3
    seed: int = 0
    max_steps: int | None = None
    save_every: int = 500
    display_every: int = 400
    bf16: bool = False
    channels_last: bool = False
    cache_gb: float = 2.0

    def check(self) -> TrainConfig:
        m = min_input_size(self.netG)
        if self.crop_size % m:
            raise ValueError(f"crop_size must be a multiple of {m} for {self.netG}")
        if self.load_size < self.crop_size:
            raise ValueError("load_size must be >= crop_size")
        if self.n_epochs + self.n_epochs_decay < 1 or self.batch_size < 1:
            raise ValueError("need at least one epoch and a batch size >= 1")
        return self


def linear_decay(n_epochs: int, n_epochs_decay: int) -> Callable[[int], float]:
    """The reference's 'linear' policy: 1 for ``n_epochs``, then linearly towards 0."""

    def rule(epoch: int) -> float:
        return 1.0 - max(0, epoch + 1 - n_epochs) / float(n_epochs_decay + 1)

    return rule


def build_networks(cfg: TrainConfig, seed: int) -> tuple[nn.Module, nn.Module]:
    """G and D initialised with N(0, 0.02) from ``seed`` (identical on every process)."""
    gen = torch.Generator().manual_seed(seed)
    G = define_G(cfg.netG, cfg.input_nc, cfg.output_nc, cfg.ngf, cfg.norm, not cfg.no_dropout)
    D = define_D(cfg.netD, cfg.input_nc + cfg.output_nc, cfg.ndf, cfg.n_layers_D, cfg.norm)
    return init_weights(G, generator=gen), init_weights(D, generator=gen)


@torch.no_grad()
def _preview(G: nn.Module, a: torch.Tensor) -> torch.Tensor:
    """G(a) as the paper tests it, without touching the RNG or batch-norm running stats."""
    buffers = {k: v.clone() for k, v in G.state_dict().items() if "running" in k or "batches" in k}
    with torch.random.fork_rng():
        out = G(a)
    G.load_state_dict(buffers, strict=False)
    return out


def train(
    cfg: TrainConfig,
    device: torch.device,
    resume: bool = False,
    progress: Callable | None = None,
    log: Callable[[str], None] = lambda msg: None,
    on_error: Callable[[str], None] | None = None,
) -> dict:
    """Train (or resume) the run in ``cfg.run_dir``; return a summary.

    ``log`` gets status lines, ``on_error`` (default ``log``) one line per unreadable pair.
    """
    on_error = on_error or log
    cfg = cfg.check()
    job = TrainingRun(cfg.run_dir, resume, cfg.seed, device)
    world, device, main, run_dir = job.world, job.device, job.main, job.dir

    pairs = find_pairs(cfg.data, "train")
    dataset = AlignedDataset(
        pairs, cfg.direction, cfg.load_size, cfg.crop_size, not cfg.no_flip, True, cfg.seed,
        int(cfg.cache_gb * (1 << 30)), on_error=on_error if main else lambda m: None,
    )  # fmt: skip
    try:
        preview_pairs = find_pairs(cfg.data, "val")[:4]
    except ValueError:
        preview_pairs = pairs[:4]
    previews = AlignedDataset(
        preview_pairs, cfg.direction, cfg.crop_size, cfg.crop_size, False, False, cfg.seed
    )
    G, D = build_networks(cfg, cfg.seed)
    G, D = G.to(device), D.to(device)
    if cfg.channels_last:
        G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
    optG = make_optimizer(G.parameters(), cfg.lr, cfg.beta1, device)
    optD = make_optimizer(D.parameters(), cfg.lr, cfg.beta1, device)
    rule = linear_decay(cfg.n_epochs, cfg.n_epochs_decay)
    schedG = torch.optim.lr_scheduler.LambdaLR(optG, rule)
    schedD = torch.optim.lr_scheduler.LambdaLR(optD, rule)
    netG, pairD = job.wrap(G), job.wrap(DiscriminatorPair(D))
    step_fn = Pix2PixStep(
        netG, pairD, optG, optD, cfg.lambda_l1, cfg.gan_mode, D, cfg.bf16, cfg.channels_last
    )

    epoch, batch_pos, step, rows = 0, 0, 0, []
    job.seed_rank()
    payload = job.restore(G=G, D=D, optG=optG, optD=optD, schedG=schedG, schedD=schedD)
    if payload is not None:
        epoch, batch_pos, step = (int(payload[k]) for k in ("epoch", "batch", "step"))
        rows = list(payload["log"])
    total_epochs = cfg.n_epochs + cfg.n_epochs_decay
    per_rank = max(1, len(dataset) // world)
    batches_per_epoch = -(-per_rank // cfg.batch_size)
    total_steps = total_epochs * batches_per_epoch
    if cfg.max_steps is not None:
        total_steps = min(total_steps, cfg.max_steps)
    if main:
        config = {**asdict(cfg), "world_size": world, "pairs": len(pairs)}
        write_text_atomic(run_dir / "config.json", json.dumps(config, indent=2))
        n_g = sum(p.numel() for p in G.parameters())
        n_d = sum(p.numel() for p in D.parameters())
        log(
            f"{len(pairs)} training pairs; G {cfg.netG} {n_g:,} parameters, D {cfg.netD} "
            f"{n_d:,}; {batches_per_epoch} steps per epoch x {total_epochs} epochs; world {world}"
        )

    def checkpoint() -> None:
        job.save(G=G, D=D, optG=optG, optD=optD, schedG=schedG, schedD=schedD, epoch=epoch,
                 batch=batch_pos, step=step, log=rows)  # fmt: skip
        if not main:
            return
        meta = {
            "netG": cfg.netG, "norm": cfg.norm, "direction": cfg.direction,
            "crop_size": cfg.crop_size, "steps": step, "epoch": epoch,
        }  # fmt: skip
        save_generator(G, run_dir / "generator.safetensors", meta)
        write_log(run_dir / "log.csv", rows)
        plot_losses(run_dir / "loss.png", rows)

    def display(batch: dict) -> None:
        shown = [("train", batch["A"][:1], step_fn.fake_B[:1], batch["B"][:1])]
        for i in range(len(previews)):
            item = previews[i]
            a = item["A"][None].to(device)
            shown.append((f"val{i}", a, _preview(G, a), item["B"][None]))
        note = f"step {step}, epoch {epoch + 1}/{total_epochs}; G in training mode, as tested"
        write_triplets(run_dir / "web", f"{run_dir.name}: step {step}", shown, note)

    G.train()
    D.train()
    t0 = time.perf_counter()
    bar = progress(total=total_steps, initial=min(step, total_steps)) if progress and main else None
    pool = ThreadPoolExecutor(max_workers=1)  # decodes the next batch while this one trains
    try:
        while epoch < total_epochs and step < total_steps:
            dataset.epoch = epoch
            order = epoch_order(len(dataset), cfg.seed, epoch, job.rank, world)
            chunks = [order[i : i + cfg.batch_size] for i in range(0, per_rank, cfg.batch_size)]
            pending = pool.submit(lambda c: collate([dataset[i] for i in c]), chunks[batch_pos])
            while batch_pos < len(chunks) and step < total_steps:
                batch = pending.result()
                if batch_pos + 1 < len(chunks):
                    pending = pool.submit(
                        lambda c: collate([dataset[i] for i in c]), chunks[batch_pos + 1]
                    )
                losses = step_fn(batch["A"].to(device), batch["B"].to(device))
                if world > 1:
                    t = torch.tensor(list(losses.values()), device=device)
                    dist.all_reduce(t)
                    losses = dict(zip(losses, (t / world).tolist(), strict=True))
                row = {"step": step + 1, "epoch": epoch + 1}
                row.update({k: round(v, 5) for k, v in losses.items()})
                row.update(
                    lr=optG.param_groups[0]["lr"], seconds=round(time.perf_counter() - t0, 2)
                )
                rows.append(row)
                step += 1
                batch_pos += 1
                if batch_pos == len(chunks):  # epoch done: the lr policy moves on
                    epoch, batch_pos = epoch + 1, 0
                    schedG.step()
                    schedD.step()
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(L1=f"{losses['G_L1']:.2f}", D=f"{losses['D_real']:.2f}")
                if main and (step % cfg.display_every == 0 or step == total_steps):
                    display(batch)
                if step % cfg.save_every == 0 and step < total_steps:
                    checkpoint()
                if batch_pos == 0:
                    break
        checkpoint()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if bar is not None:
            bar.close()
    job.finish()
    return {
        "steps": step,
        "epoch": epoch,
        "run_dir": str(run_dir),
        "last": rows[-1] if rows else {},
    }
