"""``photogen demo``: the main jobs on offline sample images, written to an HTML gallery."""

from __future__ import annotations

import argparse
from pathlib import Path

from photogen.cli.common import Progress, info, setup_runtime
from photogen.core.gallery import Section, Tile, plot_losses, write_gallery
from photogen.core.image import save_image
from photogen.core.samples import load_sample
from photogen.gatys.pyramid import resize
from photogen.gatys.style import StyleConfig, stylize
from photogen.gatys.texture import TextureConfig, synthesize_texture


def add_parser(sub) -> None:
    p = sub.add_parser("demo", help="run the main methods on sample images and write a gallery")
    p.add_argument("--out", type=Path, default=Path("demo-output"), help="output folder")
    p.add_argument("--fast", action="store_true", help="tiny sizes and few steps (smoke test)")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=run)


def _settings(config, seconds: float, sizes) -> dict:
    keep = {k: v for k, v in vars(config).items() if v is not None and k != "extra"}
    keep["scales"] = " -> ".join(f"{w}x{h}" for h, w in sizes)
    keep["seconds"] = f"{seconds:.1f}"
    return keep


def run(args: argparse.Namespace) -> int:
    device = setup_runtime(args)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    steps = 10 if args.fast else 200
    size = 64 if args.fast else 256
    sections = []

    for name, tileable in [("gravel", False), ("brick", True)]:
        src = resize(load_sample(name), (size, size))
        config = TextureConfig(size=(size, size), steps=steps, tileable=tileable, seed=args.seed)
        with Progress(args, steps * config.levels, f"texture {name}") as progress:
            result = synthesize_texture(src, config, device=device, callback=progress)
        tiles = [Tile(save_image(src, out / f"texture_{name}_source.png"), f"{name} (source)")]
        tiles.append(Tile(save_image(result.image, out / f"texture_{name}.png"), "synthesised"))
        if tileable:
            tiled = result.image.repeat(1, 1, 2, 2)
            tiles.append(Tile(save_image(tiled, out / f"texture_{name}_2x2.png"), "tiled 2x2"))
        tiles.append(
            Tile(plot_losses({"loss": result.losses}, out / f"texture_{name}_loss.png"), "loss")
        )
        sections.append(
            Section(
                f"Texture synthesis: {name}", tiles, _settings(config, result.seconds, result.sizes)
            )
        )
        info(args, f"texture {name}: {result.seconds:.1f} s")

    max_size = 96 if args.fast else 384
    jobs = [
        ("chelsea", ["ihc"], False, None),
        ("chelsea", ["ihc"], True, None),
        ("astronaut", ["ihc", "grass"], False, [0.5, 0.5]),
    ]
    for content_name, style_names, preserve, blend in jobs:
        content = load_sample(content_name)
        styles = [load_sample(s) for s in style_names]
        config = StyleConfig(
            max_size=max_size,
            steps=steps,
            preserve_colors=preserve,
            style_weights=blend,
            seed=args.seed,
        )
        tag = f"{content_name}_{'+'.join(style_names)}{'_colors' if preserve else ''}"
        with Progress(args, steps, f"stylize {tag}") as progress:
            result = stylize(content, styles, config, device=device, callback=progress)
        h, w = result.image.shape[-2:]
        tiles = [
            Tile(
                save_image(resize(content, (h, w)), out / f"style_{tag}_content.png"), content_name
            )
        ]
        for s_name, s in zip(style_names, styles, strict=True):
            tiles.append(Tile(save_image(s, out / f"style_{s_name}.png"), f"{s_name} (style)"))
        tiles.append(Tile(save_image(result.image, out / f"style_{tag}.png"), "stylised"))
        title = f"Style transfer: {content_name} in the style of {' + '.join(style_names)}"
        if preserve:
            title += ", content colours kept"
        sections.append(Section(title, tiles, _settings(config, result.seconds, result.sizes)))
        info(args, f"stylize {tag}: {result.seconds:.1f} s")

    sections.append(_colorize_section(args, out, device))
    page = write_gallery(out / "index.html", "photogen demo", sections)
    info(args, f"gallery: {page}")
    return 0


def _colorize_section(args: argparse.Namespace, out: Path, device) -> Section:
    """The bundled lite colorizer on photos it never saw in training (grey, result, truth)."""
    import time

    from photogen.colorize.pipeline import colorize_tensor, load_model
    from photogen.core.color import lightness_image

    model = load_model("lite")
    tiles = []
    start = time.perf_counter()
    for name in ("chelsea", "astronaut", "coffee"):
        photo = load_sample(name)
        if args.fast:
            photo = resize(photo, (96, 96))
        grey = lightness_image(photo)
        result = colorize_tensor(model, photo, device=device)
        tiles += [
            Tile(save_image(grey, out / f"colorize_{name}_grey.png"), f"{name}: input (L only)"),
            Tile(save_image(result, out / f"colorize_{name}.png"), "colorized (lite)"),
            Tile(save_image(photo, out / f"colorize_{name}_truth.png"), "original colours"),
        ]
    seconds = time.perf_counter() - start
    info(args, f"colorize: {seconds:.1f} s")
    return Section(
        "Automatic colorization (Zhang et al. 2016), the bundled lite model",
        tiles,
        {
            "model": "lite",
            "temperature": 0.38,
            "network input": "256x256",
            "seconds": f"{seconds:.1f}",
        },
        note="These photos were held out of the lite model's training set.",
    )
