"""``photogen texture``: texture synthesis from one example (Gatys et al. 2015)."""

from __future__ import annotations

import argparse
from pathlib import Path

from photogen.cli.common import (
    Progress,
    add_runtime_args,
    check_output,
    output_path,
    parse_layers,
    parse_size,
    run_batch,
    setup_runtime,
)
from photogen.core.image import list_images, read_image, save_image
from photogen.gatys.texture import TextureConfig, synthesize_texture
from photogen.nets.features import NETWORKS, FeatureExtractor, build_network


def add_parser(sub) -> None:
    p = sub.add_parser(
        "texture",
        help="synthesise a texture from an example image (Gatys et al. 2015)",
        description="Synthesise new texture from one example by matching Gram matrices of CNN "
        "features. SOURCE may be files, folders or globs; a bad file is reported and skipped.",
    )
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
    p.add_argument("--tileable", action="store_true", help="seamless, tileable output")
    p.add_argument("--history-size", type=int, default=d.history_size, help="L-BFGS memory")
    p.add_argument("--save-every", type=int, default=0, help="save the image every N evaluations")
    add_runtime_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    device = setup_runtime(args)
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
        return save_image(result.image, out)

    return run_batch(args, sources, work)
