"""Training the DCGAN (``photogen learn gan``), with an honest score per epoch.

Score: the Frechet distance between generated images and the test set in the feature space
(``fc1``, 128-d) of the small CNN classifier (the "judge": ``--judge RUN`` from
``photogen learn cnn``, else one trained here first on the same data and kept in
``RUN/judge``). For the class-conditional variant also the judge's accuracy on generated
samples labelled by the class they were asked for. The distance between the training set and
the test set is printed once: what real images score (with the same number of samples).

The run folder holds ``checkpoint.pt`` (G, D, both optimizers, position, logs, fixed noise,
RNG: ``--resume`` continues bit for bit), ``generator.safetensors``, ``log.csv``,
``losses.png``, ``score.png``, ``samples/epoch_NNN.png`` (fixed noise, one row per class when
conditional), ``interpolation.png`` and ``index.html``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from photogen.core.atomic import write_csv_atomic, write_text_atomic
from photogen.core.frechet import frechet_distance
from photogen.core.gallery import Section, Tile, pyplot, save_figure, write_gallery
from photogen.core.image import save_image
from photogen.core.training import TrainingRun
from photogen.core.weights import save_safetensors
from photogen.learn.cnn import CNNConfig, load_cnn, train_cnn
from photogen.learn.data import ImageSet, load_dataset
from photogen.learn.figures import image_grid
from photogen.learn.gan import Discriminator, Generator, gan_step, make_optimizers, slerp
from photogen.learn.loop import (
    Position,
    batch_indices,
    batches_per_epoch,
    epoch_plan,
)

FORMAT = "photogen-learn-gan"


@dataclass
class GANConfig:
    dataset: str
    run_dir: str
    epochs: int = 10
    batch_size: int = 64
    lr: float = 2e-4
    beta1: float = 0.5
    nz: int = 64
    ngf: int = 64
    ndf: int = 64
    conditional: bool = False
    judge: str | None = None
    judge_epochs: int = 2
    eval_samples: int = 2000
    limit: int | None = None
    test_limit: int | None = None
    save_every: int = 200
    seed: int = 0


@torch.no_grad()
def generate(G: Generator, n: int, seed: int, device, batch: int = 500):
    """``n`` samples in [0, 1] (eval mode) and their labels (cycled classes when conditional)."""
    was = G.training
    G.eval()
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, G.config["nz"], generator=g)
    k = G.config["classes"]
    y = torch.arange(n) % k if k else None
    out = torch.cat(
        [
            G(z[i : i + batch].to(device), None if y is None else y[i : i + batch].to(device)).cpu()
            for i in range(0, n, batch)
        ]
    )
    G.train(was)
    return (out + 1) / 2, y


@torch.no_grad()
def judge_features(judge, x: torch.Tensor, batch: int = 500) -> torch.Tensor:
    return torch.cat([judge.embed(x[i : i + batch]) for i in range(0, len(x), batch)]).double()


def score(G, judge, data: ImageSet, n: int, seed: int, device) -> dict:
    """Frechet distance to the test set in the judge's features; conditional: judge accuracy."""
    fake, y = generate(G, n, seed, device)
    real = data.test_x[:n]
    out = {
        "frechet": round(
            frechet_distance(judge_features(judge, fake), judge_features(judge, real)), 3
        )
    }
    if y is not None:
        with torch.no_grad():
            pred = torch.cat([judge(fake[i : i + 500]).argmax(1) for i in range(0, n, 500)])
        out["judge_accuracy"] = round(float((pred == y).float().mean()), 4)
    return out


def _plots(run: Path, rows: list[dict], steps: list[tuple[float, float]]) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.4), dpi=90)
    if steps:
        t = torch.tensor(steps)
        k = max(1, len(t) // 200)  # moving average over ~1/200 of the run
        smooth = torch.nn.functional.avg_pool1d(t.T[:, None], k, k)[:, 0]
        x = torch.arange(smooth.shape[1]) * k + k
        ax.plot(x, smooth[0], label="D: -log D(x) - log(1 - D(G(z)))")
        ax.plot(x, smooth[1], label="G: -log D(G(z))")
    ax.set_xlabel("step")
    ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, run / "losses.png")
    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=90)
    ax.plot([r["epoch"] for r in rows], [r["frechet"] for r in rows], "o-")
    ax.set_xlabel("epoch")
    ax.set_ylabel("Frechet distance (judge CNN features)")
    fig.tight_layout()
    save_figure(fig, run / "score.png")


def _get_judge(cfg: GANConfig, data: ImageSet, run: Path, device, log, progress):
    if cfg.judge:
        return load_cnn(cfg.judge)
    path = run / "judge" / "model.safetensors"
    if not path.is_file():
        log(f"no --judge: training the scoring CNN ({cfg.judge_epochs} epochs) in {run / 'judge'}")
        train_cnn(
            CNNConfig(cfg.dataset, str(run / "judge"), epochs=cfg.judge_epochs, seed=cfg.seed),
            device,
            resume=(run / "judge" / "checkpoint.pt").exists(),
            progress=progress,
            log=log,
            data=data,
        )
    return load_cnn(path)


def train_gan(
    cfg: GANConfig,
    device: torch.device,
    resume: bool = False,
    progress: Callable | None = None,
    log: Callable[[str], None] = lambda msg: None,
    data: ImageSet | None = None,
) -> dict:
    """Train (or resume) the run in ``cfg.run_dir``; return a summary with the last score."""
    job = TrainingRun(cfg.run_dir, resume, cfg.seed, device, distributed=False)
    run = job.dir
    data = data or load_dataset(cfg.dataset, cfg.limit, cfg.test_limit)
    judge = _get_judge(cfg, data, run, device, log, progress).cpu()
    if judge.config["size"] != data.size:
        raise ValueError(
            f"--judge was trained on {judge.config['size']}px images, data are {data.size}px"
        )
    k = len(data.classes) if cfg.conditional else 0
    job.seed_rank()
    G = Generator(cfg.nz, data.size, data.channels, cfg.ngf, k).to(device)
    D = Discriminator(data.size, data.channels, cfg.ndf, k).to(device)
    opt_g, opt_d = make_optimizers(G, D, cfg.lr, cfg.beta1)
    pos, rows, steps = Position(), [], []
    payload = job.restore(G=G, D=D, opt_g=opt_g, opt_d=opt_d)
    if payload is not None:
        pos, rows = Position(**payload["position"]), list(payload["log"])
        steps = [tuple(s) for s in payload["steps"].tolist()]
    n_eval = min(cfg.eval_samples, len(data.test_x))
    score_real = round(
        frechet_distance(
            judge_features(judge, data.train_x[:n_eval]),
            judge_features(judge, data.test_x[:n_eval]),
        ),
        3,
    )
    write_text_atomic(run / "config.json", json.dumps(asdict(cfg), indent=2))
    log(
        f"{data.name}: {len(data.train_x)} images; G {sum(p.numel() for p in G.parameters()):,} "
        f"D {sum(p.numel() for p in D.parameters()):,} parameters; Frechet distance train vs "
        f"test (real images) {score_real}"
    )

    def checkpoint() -> None:
        job.save(
            G=G,
            D=D,
            opt_g=opt_g,
            opt_d=opt_d,
            position=pos.to_dict(),
            log=rows,
            steps=torch.tensor(steps, dtype=torch.float64).view(-1, 2),
        )
        save_safetensors(
            G.state_dict(),
            run / "generator.safetensors",
            {"format": FORMAT, "config": json.dumps(G.config), "epoch": pos.epoch},
        )

    per_epoch = batches_per_epoch(len(data.train_x), cfg.batch_size)
    bar = progress(total=cfg.epochs * per_epoch, initial=pos.step) if progress else None
    t_start = time.perf_counter() - (rows[-1]["seconds"] if rows else 0.0)
    G.train()
    D.train()
    while pos.epoch < cfg.epochs:
        order, _ = epoch_plan(len(data.train_x), cfg.seed, pos.epoch)
        while pos.batch < per_epoch:
            idx = batch_indices(order, pos.batch, cfg.batch_size)
            real = (data.train_x[idx] * 2 - 1).to(device)
            y = data.train_y[idx].to(device) if k else None
            z = torch.randn(len(idx), cfg.nz).to(device)
            out = gan_step(G, D, opt_g, opt_d, real, z, y)
            steps.append((out["loss_d"], out["loss_g"]))
            pos.batch += 1
            pos.step += 1
            if bar is not None:
                bar.update(1)
                bar.set_postfix(D=f"{out['loss_d']:.3f}", G=f"{out['loss_g']:.3f}")
            if pos.step % cfg.save_every == 0 and pos.batch < per_epoch:
                checkpoint()
        epoch_steps = torch.tensor(steps[-per_epoch:])
        row = {
            "epoch": pos.epoch + 1,
            "step": pos.step,
            "loss_d": round(float(epoch_steps[:, 0].mean()), 4),
            "loss_g": round(float(epoch_steps[:, 1].mean()), 4),
            **score(G, judge, data, n_eval, cfg.seed + 1, device),
            "seconds": round(time.perf_counter() - t_start, 1),
        }
        rows.append(row)
        log(
            f"epoch {row['epoch']}/{cfg.epochs}: D {row['loss_d']:.3f}, G {row['loss_g']:.3f}, "
            f"Frechet {row['frechet']:.2f} (real images: {score_real})"
            + (f", judge accuracy {100 * row['judge_accuracy']:.1f}%" if k else "")
        )
        pos.epoch, pos.batch = pos.epoch + 1, 0
        _epoch_pictures(G, cfg, run, pos.epoch, device)
        write_csv_atomic(run / "log.csv", rows, list(row))
        _plots(run, rows, steps)
        checkpoint()
    if bar is not None:
        bar.close()
    summary = {
        "dataset": data.name,
        "epochs": pos.epoch,
        "steps": pos.step,
        "frechet_real": score_real,
        **{k2: rows[-1][k2] for k2 in rows[-1] if k2 in ("frechet", "judge_accuracy")},
        "run_dir": str(run),
    }
    write_text_atomic(run / "metrics.json", json.dumps(summary, indent=2))
    _report(run, rows, summary)
    return summary


def _epoch_pictures(G: Generator, cfg: GANConfig, run: Path, epoch: int, device) -> None:
    """A fixed-noise grid (rows = classes when conditional) and a fixed interpolation strip."""
    k = G.config["classes"]
    cols = 10 if k else 8
    n = (k or 8) * cols
    g = torch.Generator().manual_seed(cfg.seed + 12345)
    z = torch.randn(n, G.config["nz"], generator=g)
    y = torch.arange(n) // cols if k else None
    ends = torch.randn(2, 6, G.config["nz"], generator=g)
    t = torch.linspace(0, 1, 10)
    path_z = slerp(ends[0][None], ends[1][None], t).transpose(0, 1).reshape(-1, G.config["nz"])
    py = (torch.arange(6) % k).repeat_interleave(10) if k else None
    was = G.training
    G.eval()
    with torch.no_grad():
        grid = G(z.to(device), None if y is None else y.to(device)).cpu()
        strip = G(path_z.to(device), None if py is None else py.to(device)).cpu()
    G.train(was)
    scale = max(1, 56 // G.config["size"])
    save_image(
        image_grid((grid + 1) / 2, cols, scale=scale), run / "samples" / f"epoch_{epoch:03d}.png"
    )
    save_image(image_grid((strip + 1) / 2, 10, scale=scale), run / "interpolation.png")


def _report(run: Path, rows: list[dict], summary: dict) -> None:
    samples = sorted((run / "samples").glob("epoch_*.png"))
    write_gallery(
        run / "index.html",
        "photogen learn gan",
        [
            Section(
                "Training",
                [
                    Tile("losses.png", "the two losses"),
                    Tile("score.png", "Frechet distance per epoch (lower is better)"),
                ],
                summary,
            ),
            Section(
                "Interpolation",
                [Tile("interpolation.png", "spherical interpolation between fixed noise vectors")],
            ),
            Section(
                "Samples per epoch (fixed noise)",
                [
                    Tile(
                        p.relative_to(run).as_posix(), f"epoch {r['epoch']}: Frechet {r['frechet']}"
                    )
                    for p, r in zip(samples, rows, strict=False)
                ],
            ),
        ],
    )
