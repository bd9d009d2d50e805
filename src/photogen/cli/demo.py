"""``photogen demo``: the main jobs on offline sample images, written to an HTML gallery."""

from __future__ import annotations

import argparse
from pathlib import Path

from photogen.cli.common import Progress, info, setup_runtime
from photogen.cli.demo_match import match_section
from photogen.cli.demo_oneshot import dream_section, fast_style_section
from photogen.cli.paths import declare_paths
from photogen.core.gallery import Section, Tile, plot_losses, write_gallery
from photogen.core.image import save_image
from photogen.core.resample import resize
from photogen.core.samples import load_sample
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
    declare_paths(p, {}, {"out": "folder"})


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

    sections.append(_classic_section(args, out, device))

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

    fast = fast_style_section(args, out, device)
    if fast is not None:
        sections.append(fast)
    sections.append(dream_section(args, out, device))
    sections.append(_colorize_section(args, out, device))
    sections += _pix2pix_sections(args, out, device)
    sections.append(_pixelcnn_section(args, out, device))
    sections.append(_learn_section(args, out, device))
    sections.append(match_section(args, out))
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


def _pix2pix_sections(args: argparse.Namespace, out: Path, device) -> list[Section]:
    """Two small pix2pix models trained here and now: synthetic labels -> facades, and
    edges -> photo on the offline photos (scikit-image's, plus opencv-doc's when installed);
    each shown on pairs it never saw."""
    import time

    import torch
    from tqdm import tqdm

    from photogen.core.samples import photo_samples
    from photogen.pix2pix.facades import make_facades
    from photogen.pix2pix.infer import run_test
    from photogen.pix2pix.pairs import edge_map, random_square_crops
    from photogen.pix2pix.train import TrainConfig, train

    root = out / "pix2pix"
    make_facades(root / "facades", count=8 if args.fast else 200, size=128, seed=args.seed,
                 test_count=3)  # fmt: skip
    held_out = {"chelsea"}
    photos = photo_samples()
    gen = torch.Generator().manual_seed(args.seed)
    per_photo = max(2, 200 // max(1, len(photos)))  # about 200 training pairs, whatever is here
    for name in photos:
        photo = load_sample(name)
        phase = "test" if name in held_out else "train"
        crops = random_square_crops(photo, 2 if phase == "test" else per_photo, 128, gen, 0.5)
        for i, crop in enumerate(crops[:1] if args.fast else crops):
            pair = torch.cat([edge_map(crop), crop], dim=-1)
            save_image(pair, root / "edges" / phase / f"{name}_{i:02d}.png")
    sections = []
    jobs = [("facades", "Synthetic label maps -> facades", 5),
            ("edges", "Edges -> photo", 5)]  # fmt: skip
    for name, title, epochs in jobs:
        start = time.perf_counter()
        cfg = TrainConfig(
            data=str(root / name), run_dir=str(root / f"run_{name}"), netG="unet_128",
            ngf=8 if args.fast else 32, ndf=8 if args.fast else 32, load_size=143, crop_size=128,
            n_epochs=epochs // 2 + 1, n_epochs_decay=epochs // 2, seed=args.seed,
            max_steps=4 if args.fast else None, display_every=500, save_every=10_000,
        )  # fmt: skip
        run_dir = Path(cfg.run_dir)
        if (run_dir / "checkpoint.pt").exists():  # a previous demo: start afresh
            import shutil

            shutil.rmtree(run_dir)

        def bar(it=None, _label=f"pix2pix {name}", **kw):
            return tqdm(it, desc=_label, unit="step", disable=args.quiet, leave=False, **kw)

        summary = train(cfg, device, progress=bar, log=lambda m: None)
        from photogen.pix2pix.models import load_generator

        G = load_generator(run_dir).to(device)
        torch.manual_seed(args.seed)
        metrics = run_test(G, cfg.data, run_dir / "test", fid=None, device=device, seed=args.seed)
        seconds = time.perf_counter() - start
        tiles = []
        for png in sorted((run_dir / "test" / "images").glob("*_output.png"))[:3]:
            stem = png.name.removesuffix("_output.png")
            for kind, caption in (("input", "input"), ("output", "pix2pix"),
                                  ("target", "ground truth")):  # fmt: skip
                tiles.append(Tile(run_dir / "test" / "images" / f"{stem}_{kind}.png", caption))
        settings = {"G": f"unet_128, ngf {cfg.ngf}", "steps": summary["steps"],
                    "train pairs": len(list((root / name / "train").glob("*.png"))),
                    "test L1": f"{metrics['L1']:.3f}", "test PSNR": f"{metrics['PSNR']:.1f} dB",
                    "test SSIM": f"{metrics['SSIM']:.3f}", "seconds": f"{seconds:.0f}"}  # fmt: skip
        note = ("Trained for a few minutes in this demo on a CPU; results on held-out pairs "
                "(training page: pix2pix/run_*/web/index.html).")  # fmt: skip
        sections.append(Section(f"pix2pix (Isola et al. 2017): {title}", tiles, settings, note))
        info(args, f"pix2pix {name}: {summary['steps']} steps, {seconds:.0f} s")
    return sections


def _pixelcnn_section(args: argparse.Namespace, out: Path, device) -> Section:
    """A Gated PixelCNN trained here on scikit-image's gravel: samples at twice the training
    patch, and completions of an occluded crop from the strip held out of training."""
    import shutil
    import time

    import torch
    from tqdm import tqdm

    from photogen.core.samples import sample_path
    from photogen.pixelcnn.data import to_levels
    from photogen.pixelcnn.sample import complete, sample_fast
    from photogen.pixelcnn.train import TrainConfig, load_model, sample_grid, train

    run = out / "pixelcnn" / "run_gravel"
    if run.exists():
        shutil.rmtree(run)
    patch = 16 if args.fast else 32
    cfg = TrainConfig(
        source=str(sample_path("gravel")), run_dir=str(run), patch=patch, grey=True,
        steps=4 if args.fast else 400, batch_size=16, hidden=12 if args.fast else 48,
        layers=3 if args.fast else 8, save_every=10_000, sample_every=10_000, val_every=100,
        seed=args.seed,
    )  # fmt: skip
    start = time.perf_counter()

    def bar(**kw):
        return tqdm(desc="pixelcnn gravel", unit="step", disable=args.quiet, leave=False, **kw)

    result = train(cfg, device, progress=bar)
    model = load_model(run).to(device)
    samples = sample_fast(model, 4, (2 * patch, 2 * patch), seed=args.seed)
    texture = to_levels(load_sample("gravel").mean(1, keepdim=True))[0]
    side = 2 * patch
    crop = texture[:, 100 : 100 + side, -side:]  # from the held-out strip at the right edge
    mask = torch.ones(side, side, dtype=torch.bool)
    mask[side // 4 : side * 3 // 4, side // 4 : side * 3 // 4] = False
    filled = complete(model, crop, mask, 3, seed=args.seed)
    occluded = crop.clone()
    occluded[:, ~mask] = 128
    panel = torch.cat([occluded[None], crop[None], filled])
    seconds = time.perf_counter() - start
    tiles = [
        Tile(save_image(texture[None, :, :192, :192].float() / 255, out / "pixelcnn_source.png"),
             "gravel (source, grey)"),
        Tile(save_image(sample_grid(samples, cols=4), out / "pixelcnn_samples.png"),
             f"4 samples at {side}x{side} (trained on {patch}x{patch} patches)"),
        Tile(save_image(sample_grid(panel, cols=5), out / "pixelcnn_completion.png"),
             "occluded | original | 3 completions (held-out crop)"),
        Tile(run / "loss.png", "bits/dim"),
    ]  # fmt: skip
    info(args, f"pixelcnn: {result['steps']} steps, {result['val_bits_per_dim']} bits/dim, "
               f"{seconds:.0f} s")  # fmt: skip
    settings = {"model": f"Gated PixelCNN, {cfg.hidden} maps, {cfg.layers} layers, softmax",
                "steps": result["steps"], "held-out bits/dim": result["val_bits_per_dim"],
                "sampler": "fast (cached)", "seconds": f"{seconds:.0f}"}  # fmt: skip
    return Section("Autoregressive pixels: Gated PixelCNN (van den Oord et al. 2016)", tiles,
                   settings, note="Every pixel is drawn from the network's 256-way softmax "
                   "given the pixels above and to its left.")  # fmt: skip


def _learn_section(args: argparse.Namespace, out: Path, device) -> Section:
    """The foundations: the MLP playground figures and a small CNN on scikit-learn's digits."""
    import shutil

    from photogen.learn.cnn import CNNConfig, train_cnn
    from photogen.learn.playground import PlaygroundConfig, make_playground

    pg = make_playground(
        out / "learn_playground",
        PlaygroundConfig(
            points=60 if args.fast else 400, epochs=5 if args.fast else 200, seed=args.seed
        ),
    )
    run = out / "learn_cnn_digits"
    if run.exists():
        shutil.rmtree(run)
    cnn = train_cnn(
        CNNConfig("sklearn-digits", str(run), epochs=1 if args.fast else 15, seed=args.seed), device
    )
    info(
        args,
        f"learn: playground {pg['seconds']} s, CNN on digits "
        f"{100 * cnn['test_accuracy']:.1f}% test accuracy",
    )
    tiles = [
        Tile(
            out / "learn_playground" / "regions_hidden.png",
            "perceptron vs MLPs with 3, 6, 20 (and 20 + 20) hidden units",
        ),
        Tile(out / "learn_playground" / "loss_surface.png", "loss surface, gradient descent"),
        Tile(run / "confusion.png", "CNN on scikit-learn digits: confusion matrix"),
        Tile(run / "filters.png", "its first-layer filters"),
    ]
    return Section(
        "Foundations: perceptron, MLP, CNN (photogen learn)",
        tiles,
        {
            "CNN test accuracy": cnn["test_accuracy"],
            "CNN epochs": cnn["epochs"],
            "playground seconds": pg["seconds"],
        },
        note="Full sheets: learn_playground/index.html, learn_cnn_digits/index.html.",
    )


def _classic_section(args: argparse.Namespace, out: Path, device) -> Section:
    """The three classical methods on scikit-image's brick (no network, seconds)."""
    from photogen.compare.texture import CompareConfig, compare

    cfg = CompareConfig(
        size=48 if args.fast else 160,
        example_size=32 if args.fast else 96,
        methods=("efros-leung", "quilting", "heeger-bergen"),
        window=5 if args.fast else 11,
        block=12 if args.fast else 24,
        seed=args.seed,
    )
    folder = out / "texture_classics"
    rows = compare(load_sample("brick"), folder, cfg, device, "brick")
    info(
        args,
        "classical textures: " + ", ".join(f"{r['method']} {r['seconds']:.1f} s" for r in rows),
    )
    tiles = [Tile(folder / "example.png", "brick (example)")]
    tiles += [
        Tile(
            folder / f"{r['method']}.png",
            f"{r['method']}: {r['seconds']:.1f} s, Gram {r['gram_random']}",
        )
        for r in rows
    ]
    tiles.append(Tile(folder / "heeger-bergen_iterations.png", "Heeger-Bergen iterations 0..5"))
    return Section(
        "Classical texture synthesis: Efros-Leung, quilting, Heeger-Bergen",
        tiles,
        {"output": f"{cfg.size}x{cfg.size}", "window": cfg.window, "block": cfg.block},
        note="Heeger-Bergen matches band histograms only: right for stochastic textures, blind "
        "to the bricks' structure. Efros-Leung's 11-pixel window is about one brick, so it "
        "drifts here (a larger --window helps); quilting copies whole blocks and keeps it. "
        "photogen compare texture runs these, Gatys and a PixelCNN on one sheet.",
    )
