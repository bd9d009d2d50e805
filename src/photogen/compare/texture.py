"""``photogen compare texture``: every synthesis method on one example, one HTML sheet.

Methods: ``gatys`` (CNN Gram matrices, EfficientNet-Lite0), ``efros-leung``, ``quilting``,
``heeger-bergen`` and ``pixelcnn`` (a Gated PixelCNN trained here on the example, then
sampled). Each output is timed and scored with statistics none of them optimised:

- ``gram_random``: the normalised Gram distance (the texture loss of Gatys et al.) in a
  random multi-scale network (Ustyuzhaninov et al. 2017) with a seed no method uses;
- ``histogram_w1``: the mean over R, G, B of the 1-Wasserstein distance between the output's
  and the example's value distributions (in 1/255 units).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from photogen.core.atomic import write_csv_atomic, write_text_atomic
from photogen.core.gallery import Section, Tile, write_gallery
from photogen.core.image import save_image

METHODS = ("gatys", "efros-leung", "quilting", "heeger-bergen", "pixelcnn")
JUDGE_SEED = 12345


@dataclass
class CompareConfig:
    size: int = 192  # output side
    example_size: int = 128  # the example's longer side after resizing
    methods: tuple[str, ...] = METHODS
    window: int = 11  # Efros-Leung
    block: int = 32  # quilting
    iterations: int = 5  # Heeger-Bergen
    gatys_steps: int = 200
    pixelcnn_steps: int = 300
    pixelcnn_model: str | None = None  # a trained run instead of training here
    seed: int = 0


def histogram_w1(a: torch.Tensor, b: torch.Tensor, quantiles: int = 1024) -> float:
    """Mean over channels of the 1-Wasserstein distance between value distributions (x255)."""
    q = (torch.arange(quantiles, dtype=torch.float64) + 0.5) / quantiles
    qa = torch.quantile(a[0].flatten(1).double(), q, dim=1)
    qb = torch.quantile(b[0].flatten(1).double(), q, dim=1)
    return float((qa - qb).abs().mean() * 255)


class GramJudge:
    """Gram distance in a random multi-scale network (seed fixed, used by no method)."""

    def __init__(self, device):
        from photogen.nets.features import NETWORKS, FeatureExtractor, build_network

        spec = NETWORKS["random_multiscale"]
        self.layers = dict(spec.texture_layers)
        net = build_network("random_multiscale", seed=JUDGE_SEED)
        self.extractor = FeatureExtractor(net, list(self.layers)).to(device).eval()
        self.device = device

    @torch.no_grad()
    def __call__(self, image: torch.Tensor, example: torch.Tensor) -> float:
        from photogen.gatys.losses import style_loss, style_targets

        targets = style_targets(self.extractor(example.to(self.device)))
        return float(style_loss(self.extractor(image.to(self.device)), targets, self.layers))


def _fit(example: torch.Tensor, side: int) -> torch.Tensor:
    h, w = example.shape[-2:]
    s = side / max(h, w)
    if s >= 1:
        return example
    size = (max(16, round(h * s)), max(16, round(w * s)))
    return F.interpolate(example, size=size, mode="bicubic", antialias=True).clamp(0, 1)


def _run_pixelcnn(example, cfg: CompareConfig, out: Path, device, log, bar) -> torch.Tensor:
    from photogen.pixelcnn.sample import sample_fast
    from photogen.pixelcnn.train import TrainConfig, load_model, train

    if cfg.pixelcnn_model:
        model = load_model(cfg.pixelcnn_model).to(device)
    else:
        run = out / "pixelcnn_run"
        if run.exists():
            shutil.rmtree(run)
        src = out / "example.png"
        tc = TrainConfig(
            source=str(src),
            run_dir=str(run),
            patch=max(8, min(32, min(example.shape[-2:]) // 2)),  # leaves a held-out strip
            steps=cfg.pixelcnn_steps,
            hidden=48,
            layers=8,
            save_every=10**9,
            sample_every=10**9,
            val_every=10**9,
            seed=cfg.seed,
        )
        train(
            tc,
            device,
            progress=(lambda **kw: bar("pixelcnn train", "step", **kw)) if bar else None,
            log=log,
        )
        model = load_model(run).to(device)
    rows = bar("pixelcnn sample", "row", total=cfg.size) if bar else None
    levels = sample_fast(
        model, 1, (cfg.size, cfg.size), seed=cfg.seed, progress=rows.update if rows else None
    )
    if rows:
        rows.close()
    img = levels.float() / 255.0
    return img.expand(-1, 3, -1, -1) if img.shape[1] == 1 else img


def run_method(
    name: str,
    example: torch.Tensor,
    cfg: CompareConfig,
    out: Path,
    device,
    log: Callable[[str], None],
    bar: Callable | None = None,
) -> tuple[torch.Tensor, dict]:
    """One method's output ``(1, 3, size, size)`` and its settings."""
    size = (cfg.size, cfg.size)
    if name == "gatys":
        from photogen.gatys.texture import TextureConfig, synthesize_texture

        tc = TextureConfig(size=size, steps=cfg.gatys_steps, seed=cfg.seed)
        return synthesize_texture(example, tc, device=device).image.cpu(), {
            "network": tc.network,
            "steps per level": tc.steps,
            "levels": tc.levels,
        }
    if name == "efros-leung":
        from photogen.classic.efros_leung import EfrosLeungConfig, synthesize

        c = EfrosLeungConfig(window=cfg.window, seed=cfg.seed)
        return synthesize(example, size, c), {"window": c.window, "epsilon": c.epsilon}
    if name == "quilting":
        from photogen.classic.quilting import QuiltingConfig, quilt

        c = QuiltingConfig(block=cfg.block, seed=cfg.seed)
        return quilt(example, size, c), {"block": c.block, "overlap": c.resolved_overlap()}
    if name == "heeger-bergen":
        from photogen.classic.heeger_bergen import HeegerBergenConfig, iteration_strip, synthesize

        c = HeegerBergenConfig(iterations=cfg.iterations, seed=cfg.seed)
        steps = []
        img = synthesize(example, size, c, callback=lambda i, x: steps.append(x))
        save_image(iteration_strip(steps), out / "heeger-bergen_iterations.png")
        return img, {
            "pyramid": f"Laplacian, {c.levels} bands + low-pass",
            "iterations": c.iterations,
        }
    if name == "pixelcnn":
        return _run_pixelcnn(example, cfg, out, device, log, bar), {
            "model": cfg.pixelcnn_model
            or f"Gated PixelCNN trained here, {cfg.pixelcnn_steps} steps"
        }
    raise ValueError(f"unknown method {name!r}; choose from {', '.join(METHODS)}")


def compare(
    source: torch.Tensor,
    out_dir: str | os.PathLike,
    cfg: CompareConfig | None = None,
    device: torch.device | str = "cpu",
    title: str = "texture",
    log: Callable[[str], None] = lambda msg: None,
    bar: Callable | None = None,
) -> list[dict]:
    """Run every method of ``cfg.methods`` on ``source (1, 3, H, W)``; write the sheet.

    ``bar(label, unit, **tqdm_kwargs)`` makes a progress bar for the long steps (PixelCNN).
    """
    cfg = cfg or CompareConfig()
    bad = [m for m in cfg.methods if m not in METHODS]
    if bad:
        raise ValueError(f"unknown method(s) {', '.join(bad)}; choose from {', '.join(METHODS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    example = _fit(source[:, :3], cfg.example_size)
    save_image(example, out / "example.png")
    judge = GramJudge(torch.device(device))
    rows, tiles = [], [Tile("example.png", f"example {example.shape[-1]}x{example.shape[-2]}")]
    for name in cfg.methods:
        torch.manual_seed(cfg.seed)
        t0 = time.perf_counter()
        image, settings = run_method(name, example, cfg, out, device, log, bar)
        seconds = time.perf_counter() - t0
        save_image(image, out / f"{name}.png")
        row = {
            "method": name,
            "seconds": round(seconds, 2),
            "gram_random": round(judge(image, example), 4),
            "histogram_w1": round(histogram_w1(image, example), 2),
            **settings,
        }
        rows.append(row)
        log(
            f"{name}: {seconds:.1f} s, Gram distance {row['gram_random']}, "
            f"histogram W1 {row['histogram_w1']}"
        )
        tiles.append(
            Tile(
                f"{name}.png",
                f"{name}: {seconds:.1f} s, Gram {row['gram_random']}, W1 {row['histogram_w1']}",
            )
        )
    fields = ["method", "seconds", "gram_random", "histogram_w1"]
    write_csv_atomic(out / "results.csv", [{k: r[k] for k in fields} for r in rows], fields)
    write_text_atomic(out / "results.json", json.dumps(rows, indent=2))
    write_gallery(
        out / "index.html",
        f"photogen compare texture: {title}",
        _sections(rows, tiles, cfg, out, title),
    )
    return rows


def _sections(rows, tiles, cfg: CompareConfig, out: Path, title: str, prefix: str = ""):
    """The sheet of one example; ``prefix`` is put before every picture's path."""
    tiles = [Tile(prefix + str(t.path), t.caption) for t in tiles]
    sections = [
        Section(
            f"{title}: every method, {cfg.size}x{cfg.size}",
            tiles,
            {r["method"]: {k: v for k, v in r.items() if k != "method"} for r in rows},
            note="Gram: normalised Gram distance in a random multi-scale network "
            "(seed 12345), which no method optimised; W1: mean 1-Wasserstein distance "
            "of the R, G, B histograms, in 1/255. Lower is closer to the example.",
        )
    ]
    if (out / "heeger-bergen_iterations.png").exists() and "heeger-bergen" in cfg.methods:
        sections.append(
            Section(
                "Heeger-Bergen, iterations 0..N",
                [Tile(prefix + "heeger-bergen_iterations.png", "noise, then each iteration")],
            )
        )
    return sections


def compare_many(
    sources: list[tuple[str, torch.Tensor]],
    out_dir: str | os.PathLike,
    cfg: CompareConfig | None = None,
    device: torch.device | str = "cpu",
    log: Callable[[str], None] = lambda msg: None,
    bar: Callable | None = None,
) -> dict[str, list[dict]]:
    """:func:`compare` for each ``(name, image)`` into ``OUT/name/``, plus one sheet of all in
    ``OUT/index.html`` opening with a table of the closest method per example."""
    cfg = cfg or CompareConfig()
    out = Path(out_dir)
    results, sections = {}, []
    for name, image in sources:
        log(f"== {name}")
        rows = compare(image, out / name, cfg, device, name, log, bar)
        results[name] = rows
        tiles = [Tile("example.png", "example")] + [
            Tile(
                f"{r['method']}.png",
                f"{r['method']}: {r['seconds']:.1f} s, Gram "
                f"{r['gram_random']}, W1 {r['histogram_w1']}",
            )
            for r in rows
        ]
        sections += _sections(rows, tiles, cfg, out / name, name, prefix=f"{name}/")
    summary = {
        name: "closest Gram: "
        + min(rows, key=lambda r: r["gram_random"])["method"]
        + "; fastest: "
        + min(rows, key=lambda r: r["seconds"])["method"]
        for name, rows in results.items()
    }
    write_gallery(
        out / "index.html", "photogen compare texture", [Section("Summary", [], summary), *sections]
    )
    return results
