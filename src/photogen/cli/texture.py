"""``photogen texture``: texture synthesis from one example.

``--method gatys`` (CNN Gram matrices, Gatys et al. 2015, the default), ``efros-leung``
(non-parametric sampling, 1999), ``quilting`` (Efros & Freeman 2001) or ``heeger-bergen``
(pyramid histograms, 1995); ``photogen compare texture SRC -o DIR`` runs them all (and a
PixelCNN) on one example and writes one sheet (``photogen texture compare`` is the same).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from photogen.cli.common import (
    GATYS_FP32,
    Progress,
    UsageError,
    add_bit_depth_arg,
    add_precision_arg,
    add_runtime_args,
    check_bit_depth,
    check_output,
    error,
    info,
    output_path,
    parse_layers,
    parse_size,
    resolve_precision,
    run_batch,
    setup_runtime,
)
from photogen.cli.paths import declare_paths
from photogen.compare.texture import METHODS
from photogen.core.image import ImageError, list_images, read_image, save_image
from photogen.gatys.texture import TextureConfig, synthesize_texture
from photogen.nets.features import NETWORKS, FeatureExtractor, build_network

CLASSIC = ("efros-leung", "quilting", "heeger-bergen")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "texture",
        help="synthesise a texture from an example image (Gatys, Efros-Leung, quilting, "
        "Heeger-Bergen); 'photogen compare texture' runs them all",
        description="Synthesise new texture from one example: by matching Gram matrices of CNN "
        "features (--method gatys, default), by non-parametric sampling (efros-leung), by image "
        "quilting, or by matching pyramid histograms (heeger-bergen). SOURCE may be files, "
        "folders or globs; a bad file is reported and skipped. 'photogen compare texture SRC "
        "-o DIR' runs every method (and a PixelCNN) on one example and writes DIR/index.html.",
    )
    p.add_argument("--method", default="gatys", choices=["gatys", *CLASSIC])
    p.add_argument("source", nargs="+", help="example texture image(s), folder(s) or glob(s)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output file, or folder")
    d = TextureConfig()
    p.add_argument("--size", help="output size N or HxW (default: the source's size)")
    p.add_argument("--network", default=d.network, choices=list(NETWORKS))
    p.add_argument("--weights", help="weights name or file for the network (vgg19: PATH)")
    p.add_argument("--layers", help="comma list of layer[:weight] (default: the network's)")
    p.add_argument("--steps", type=int, default=d.steps, help="evaluations per pyramid level")
    p.add_argument("--optimizer", default=d.optimizer, choices=["lbfgs", "adam"])
    p.add_argument("--lr", type=float, default=None, help="step size (default 1 L-BFGS, 0.02 Adam)")
    p.add_argument("--init", default=d.init, choices=["mean", "noise"])
    p.add_argument("--levels", type=int, default=d.levels, help="coarse-to-fine pyramid levels")
    p.add_argument("--tv-weight", type=float, default=None, help="total-variation weight")
    p.add_argument(
        "--no-histogram-match", action="store_true", help="skip the final colour-histogram match"
    )
    p.add_argument(
        "--tileable",
        action="store_true",
        help="seamless, tileable output (gatys; heeger-bergen output always is; refused by "
        "efros-leung and quilting)",
    )
    p.add_argument("--history-size", type=int, default=d.history_size, help="L-BFGS memory")
    add_precision_arg(
        p,
        auto="fp32 (Gatys' optimisation in bf16 was slower with a higher "
        "loss on an H200 at 512 px)",
    )
    p.add_argument("--save-every", type=int, default=0, help="save the image every N evaluations")
    add_bit_depth_arg(p)
    g = p.add_argument_group("classical methods")
    g.add_argument("--window", type=int, default=11, help="efros-leung: neighbourhood side (odd)")
    g.add_argument(
        "--epsilon",
        type=float,
        default=0.1,
        help="efros-leung: candidates within (1 + epsilon) of the best match",
    )
    g.add_argument(
        "--mask",
        help="efros-leung: fill the holes of SOURCE instead (image: black "
        "or transparent = to fill); output has SOURCE's size",
    )
    g.add_argument("--block", type=int, default=32, help="quilting: block side")
    g.add_argument("--overlap", type=int, default=None, help="quilting: overlap (block / 6)")
    g.add_argument("--iterations", type=int, default=5, help="heeger-bergen: iterations")
    g.add_argument("--pyramid-levels", type=int, default=4, help="heeger-bergen: band levels")
    g.add_argument(
        "--save-iterations",
        action="store_true",
        help="heeger-bergen: also write iterations 0..N side by side",
    )
    add_runtime_args(p)
    p.set_defaults(func=run)
    declare_paths(
        p,
        inputs={"source": "images", "mask": "image", "weights": "model"},
        outputs={"output": "file-or-folder"},
    )


def add_compare_parser(sub) -> None:
    """``photogen compare texture SRC -o DIR`` (also reached as ``photogen texture compare``)."""
    p = sub.add_parser(
        "compare",
        help="run several methods on one input and score them on one sheet",
        description="Comparisons across methods (the compare/ layer): 'photogen compare "
        "texture SRC -o DIR'.",
    )
    cmds = p.add_subparsers(dest="compare_command", required=True, metavar="WHAT")
    c = cmds.add_parser(
        "texture",
        help="every texture method on one example",
        description="Run every texture method on one example; write "
        "OUT/<method>.png, results.csv/json (seconds, Gram distance in a random "
        "network none of them optimised, histogram distance) and OUT/index.html.",
    )
    c.add_argument("source", nargs="+", help="example texture image(s), folder(s) or glob(s)")
    c.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    c.add_argument(
        "--methods", default=",".join(METHODS), help="comma list of " + ", ".join(METHODS)
    )
    c.add_argument("--size", type=int, default=192, help="output side")
    c.add_argument("--example-size", type=int, default=128, help="example's longer side")
    c.add_argument("--window", type=int, default=11)
    c.add_argument("--block", type=int, default=32)
    c.add_argument("--iterations", type=int, default=5)
    c.add_argument("--gatys-steps", type=int, default=200)
    c.add_argument("--pixelcnn-steps", type=int, default=300)
    c.add_argument("--pixelcnn-model", help="a trained 'pixelcnn train' run (skips training)")
    add_runtime_args(c)
    c.set_defaults(func=run_compare)
    declare_paths(
        c, inputs={"source": "images", "pixelcnn_model": "model"}, outputs={"output": "folder"}
    )


def rewrite_argv(argv: list[str]) -> list[str]:
    """``texture compare ...`` -> ``compare texture ...``, whatever files exist (a folder
    named ``compare`` is written ``./compare``)."""
    if len(argv) >= 2 and argv[0] == "texture" and argv[1] == "compare":
        return ["compare", "texture", *argv[2:]]
    return argv


def run_compare(args: argparse.Namespace) -> int:
    from photogen.compare.texture import CompareConfig, compare, compare_many

    device = setup_runtime(args)
    cfg = CompareConfig(
        size=args.size,
        example_size=args.example_size,
        methods=tuple(m.strip() for m in args.methods.split(",") if m.strip()),
        window=args.window,
        block=args.block,
        iterations=args.iterations,
        gatys_steps=args.gatys_steps,
        pixelcnn_steps=args.pixelcnn_steps,
        pixelcnn_model=args.pixelcnn_model,
        seed=args.seed,
    )

    def bar(label, unit, **kw):
        return tqdm(desc=label, unit=unit, disable=args.quiet, leave=False, **kw)

    paths = list_images(args.source)
    if len(paths) == 1:
        rows = compare(read_image(paths[0], max_pixels=args.max_pixels), args.output, cfg, device,
                       paths[0].stem, log=lambda m: info(args, m), bar=bar)  # fmt: skip
        best = min(rows, key=lambda r: r["gram_random"])
        info(args, f"{len(rows)} methods; closest Gram statistics: {best['method']} -> "
                   f"{args.output / 'index.html'}")  # fmt: skip
        return 0
    sources, failed = [], 0
    for p in paths:
        try:
            sources.append((p.stem, read_image(p, max_pixels=args.max_pixels)))
        except ImageError as exc:
            error(str(exc))
            failed += 1
    if sources:
        compare_many(sources, args.output, cfg, device, log=lambda m: info(args, m), bar=bar)
        info(args, f"{len(sources)} examples -> {args.output / 'index.html'}")
    return 1 if failed else 0


def run_classic(args: argparse.Namespace) -> int:
    """--method efros-leung | quilting | heeger-bergen (no network)."""
    from photogen.classic import efros_leung, heeger_bergen, quilting

    if args.tileable and args.method != "heeger-bergen":
        raise UsageError(
            f"--tileable is not implemented for --method {args.method}; use gatys, or "
            "heeger-bergen (whose circular pyramid makes every output tileable)"
        )
    sources = list_images(args.source)
    batch = len(sources) > 1
    check_output(args.output, batch)
    size = parse_size(args.size)
    if args.mask and args.output.suffix.lower() in (".jpg", ".jpeg", ".webp"):
        info(args, f"note: {args.output.suffix} is lossy and changes the known pixels too; "
                   "write .png to keep them exactly")  # fmt: skip

    def work(path: Path) -> Path:
        source = read_image(path, max_pixels=args.max_pixels)[:, :3]
        out = output_path(args.output, path.stem, f"_{args.method}", batch)
        hw = size or tuple(source.shape[-2:])
        if args.method == "efros-leung":
            cfg = efros_leung.EfrosLeungConfig(
                window=args.window, epsilon=args.epsilon, seed=args.seed
            )
            if args.mask:
                m = read_image(args.mask, keep_alpha=True, max_pixels=args.max_pixels)[0]
                if m.shape[-2:] != source.shape[-2:]:
                    raise UsageError(
                        f"--mask is {m.shape[-1]}x{m.shape[-2]}, "
                        f"{path.name} is {source.shape[-1]}x{source.shape[-2]}"
                    )
                known = (m[:3].mean(0) > 0.5) & (m[3] > 0.5)
                total = int((~known).sum())
            else:
                total = hw[0] * hw[1]
            with tqdm(
                total=total, desc=path.stem, unit="px", disable=args.quiet, leave=False
            ) as bar:
                if args.mask:
                    image = efros_leung.fill_holes(source, known, cfg, bar.update)
                else:
                    image = efros_leung.synthesize(source, hw, cfg, bar.update)
        elif args.method == "quilting":
            cfg = quilting.QuiltingConfig(block=args.block, overlap=args.overlap, seed=args.seed)
            image = quilting.quilt(source, hw, cfg)
        else:
            cfg = heeger_bergen.HeegerBergenConfig(args.pyramid_levels, args.iterations, args.seed)
            steps = []
            image = heeger_bergen.synthesize(source, hw, cfg, lambda i, x: steps.append(x))
            if args.save_iterations:
                strip = heeger_bergen.iteration_strip(steps)
                save_image(strip, out.with_name(out.stem + "_iterations.png"))
        return save_image(image, out, bit_depth=args.bit_depth)

    return run_batch(args, sources, work)


def run(args: argparse.Namespace) -> int:
    device = setup_runtime(args)
    check_bit_depth(args)
    if args.method in CLASSIC:
        return run_classic(args)
    if args.mask:
        raise UsageError("--mask works with --method efros-leung")
    config = TextureConfig(
        network=args.network,
        layers=parse_layers(args.layers),
        size=parse_size(args.size),
        steps=args.steps,
        optimizer=args.optimizer,
        lr=args.lr,
        init=args.init,
        levels=args.levels,
        tv_weight=args.tv_weight,
        histogram_match=not args.no_histogram_match,
        tileable=args.tileable,
        seed=args.seed,
        history_size=args.history_size,
        bf16=resolve_precision(args, device, fp32_because=GATYS_FP32) == "bf16",
    )
    config.validate()
    spec = NETWORKS[config.network]
    kwargs = {"weights": args.weights} if args.weights else {}
    layers = config.layers or spec.texture_layers
    extractor = FeatureExtractor(build_network(config.network, **kwargs), list(layers)).to(device)
    sources = list_images(args.source)
    batch = len(sources) > 1
    check_output(args.output, batch)

    def work(path: Path) -> Path:
        source = read_image(path, max_pixels=args.max_pixels)
        out = output_path(args.output, path.stem, "_texture", batch)
        with Progress(args, config.steps * config.levels, path.stem, out.parent) as progress:
            result = synthesize_texture(source, config, extractor, device, progress)
        return save_image(result.image, out, bit_depth=args.bit_depth)

    return run_batch(args, sources, work)
