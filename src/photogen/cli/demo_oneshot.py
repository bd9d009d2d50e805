"""The demo's sections of the methods that make a picture in one go: the bundled fast style
networks (Johnson et al. 2016) and DeepDream (Mordvintsev et al. 2015)."""

from __future__ import annotations

import argparse
from pathlib import Path

from photogen.cli.common import Progress, info
from photogen.core.gallery import Section, Tile
from photogen.core.image import save_image
from photogen.core.resample import resize
from photogen.core.samples import load_sample


def fast_style_section(args: argparse.Namespace, out: Path, device) -> Section | None:
    """The bundled fast style networks (Johnson et al. 2016), one pass each, on photos they
    never saw in training."""
    import time

    import torch

    from photogen.faststyle.models import BUNDLED
    from photogen.faststyle.train import load_model

    if not BUNDLED:
        return None
    tiles, start = [], time.perf_counter()
    for name in ("chelsea", "astronaut", "coffee"):
        photo = load_sample(name)
        photo = resize(photo, (96, 96) if args.fast else (384, 384 * photo.shape[-1]
                                                          // photo.shape[-2]))  # fmt: skip
        tiles.append(Tile(save_image(photo, out / f"fast_{name}.png"), f"{name} (held out)"))
        for model_name in BUNDLED:
            model = load_model(model_name).to(device)
            with torch.no_grad():
                styled = model.stylize(photo.to(device)).cpu()
            tiles.append(Tile(save_image(styled, out / f"fast_{name}_{model_name}.png"),
                              f"fast network: {model_name}"))  # fmt: skip
    seconds = time.perf_counter() - start
    info(args, f"fast style: {seconds:.1f} s")
    return Section("Style in one pass: the bundled fast style networks (Johnson et al. 2016)",
                   tiles, {"networks": ", ".join(BUNDLED), "seconds": f"{seconds:.1f}"},
                   note="Model cards: docs/models/faststyle-*.md")  # fmt: skip


def dream_section(args: argparse.Namespace, out: Path, device) -> Section:
    """DeepDream (Mordvintsev et al. 2015) on a photo at the notebook's defaults."""
    from photogen.dream import DreamConfig, dream

    photo = load_sample("chelsea")
    photo = resize(photo, (64, 96) if args.fast else (256, 384))
    config = DreamConfig(seed=args.seed, steps=2 if args.fast else 10)
    with Progress(args, config.octaves * config.steps, "dream") as progress:
        result = dream(photo, config, device=device,
                       callback=lambda done, total, image: progress.bar.update(1))  # fmt: skip
    tiles = [
        Tile(save_image(photo, out / "dream_photo.png"), "chelsea"),
        Tile(save_image(result.image, out / "dream.png"), f"DeepDream, {config.layer}"),
    ]
    rise = ", ".join(f"{a:.3g} -> {b:.3g}" for a, b in
                     zip(result.objective_start, result.objective, strict=True))  # fmt: skip
    return Section("DeepDream (Mordvintsev et al. 2015)", tiles,
                   {"layer": config.layer, "octaves": config.octaves, "steps": config.steps,
                    "objective per octave": rise})  # fmt: skip
