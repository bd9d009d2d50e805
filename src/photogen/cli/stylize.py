"""``photogen stylize``: neural style transfer (Gatys et al. 2016)."""

from __future__ import annotations

import argparse
from pathlib import Path

from photogen.cli.common import (
    GATYS_FP32,
    Progress,
    UsageError,
    add_bit_depth_arg,
    add_precision_arg,
    add_runtime_args,
    check_bit_depth,
    check_output,
    first_frame,
    first_photo,
    info,
    output_path,
    parse_layers,
    resolve_precision,
    run_batch,
    setup_runtime,
)
from photogen.cli.paths import declare_paths
from photogen.cli.video import add_video_args, run_video, video_input
from photogen.core.image import list_images, read_image, save_image
from photogen.gatys.pyramid import fit_max_side
from photogen.gatys.style import StyleConfig, format_bytes, memory_needed, stylize
from photogen.nets.features import NETWORKS, FeatureExtractor, build_network


def add_parser(sub) -> None:
    p = sub.add_parser(
        "stylize",
        help="render a photo in the style of one or more images (Gatys et al. 2016)",
        description="Neural style transfer. CONTENT may be a file, folder or glob (a batch: a bad "
        "file is reported and the rest processed); several STYLE images are blended.",
    )
    p.add_argument("content", help="content image, folder or glob, or a video file")
    p.add_argument("style", nargs="*", help="style image(s) (none with --model)")
    p.add_argument("--model", help="a fast style network (a run of 'photogen stylize train', "
                   "or its model.safetensors): one forward pass, no optimisation")  # fmt: skip
    p.add_argument("-o", "--output", type=Path, required=True, help="output file, or folder")
    d = StyleConfig()
    p.add_argument("--style-weights", help="comma list of blend weights, one per style image")
    p.add_argument("--max-size", type=int, default=d.max_size, help="output's longer side (px)")
    p.add_argument(
        "--levels", type=int, default=None, help="coarse-to-fine scales (default: 1 up to 512 px)"
    )
    p.add_argument("--steps", type=int, default=d.steps, help="L-BFGS evaluations, finest scale")
    p.add_argument("--coarse-steps", type=int, default=None, help="evaluations per coarser scale")
    p.add_argument("--network", default=d.network, choices=list(NETWORKS))
    p.add_argument("--weights", help="weights name or file for the network (vgg19: PATH)")
    p.add_argument("--content-layer", default=None, help="content layer (default: the network's)")
    p.add_argument("--style-layers", help="comma list of layer[:weight]")
    p.add_argument("--content-weight", type=float, default=d.content_weight)
    p.add_argument("--style-weight", type=float, default=None, help="default: the network's")
    p.add_argument("--tv-weight", type=float, default=None, help="default: the network's")
    p.add_argument("--init", default=d.init, choices=["content", "noise"])
    p.add_argument("--style-scale", type=float, default=d.style_scale, help="style image scale")
    p.add_argument(
        "--preserve-colors", action="store_true", help="keep the content's colours (luminance only)"
    )
    p.add_argument("--optimizer", default=d.optimizer, choices=["lbfgs", "adam"])
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--history-size", type=int, default=d.history_size, help="L-BFGS memory")
    p.add_argument(
        "--multires",
        type=int,
        default=None,
        help="levels of the multi-resolution warm start (default: automatic; 1 = pixels only)",
    )
    add_precision_arg(
        p,
        auto="with --model, bf16 where the device has native bf16 and "
        "the first picture is within 2/255 of fp32's; Gatys' optimisation fp32 "
        "(bf16 measured slower with a higher loss on an H200 at 512 px)",
    )
    p.add_argument("--max-memory", type=float, default=None, help="GiB allowed (default: free)")
    p.add_argument("--save-every", type=int, default=0, help="save the image every N evaluations")
    add_video_args(p, "default: each frame starts from the previous one warped by the flow, "
                   "with a temporal loss (Ruder et al. 2016); with --model, the flow-carried "
                   "blend", engines=True)  # fmt: skip
    add_runtime_args(p)
    add_bit_depth_arg(p)
    p.set_defaults(func=run)
    declare_paths(
        p,
        inputs={"content": "images", "style": "image", "weights": "model", "model": "model"},
        outputs={"output": "file-or-folder"},
    )


def _weights_list(text: str | None, n: int) -> list[float] | None:
    if not text:
        return None
    try:
        weights = [float(v) for v in text.split(",")]
    except ValueError:
        raise UsageError(f"--style-weights {text!r} is not a comma list of numbers") from None
    if len(weights) != n:
        raise UsageError(f"--style-weights has {len(weights)} values for {n} style images")
    return weights


def rewrite_argv(argv: list[str]) -> list[str]:
    """``stylize train ...`` -> ``stylize-train ...`` (argparse cannot mix both forms)."""
    if len(argv) >= 2 and argv[0] == "stylize" and argv[1] == "train":
        return ["stylize-train", *argv[2:]]
    return argv


def add_train_parser(sub) -> None:
    from photogen.faststyle.train import TrainConfig

    d = TrainConfig()
    p = sub.add_parser(
        "stylize-train",
        help="train a fast style network for one style (Johnson et al. 2016); "
        "written 'photogen stylize train'",
        description="Train the Johnson et al. transformation network with photogen's Gatys "
        "losses on every offline photograph (or --content DIR): resumable (--resume), a gallery "
        "of held-out photos every --gallery-every steps, model.safetensors in the run folder.",
    )
    p.add_argument("style_image", metavar="STYLE", help="the style picture")
    p.add_argument("--name", required=True, help="the run folder (runs/NAME)")
    p.add_argument("--content", nargs="+", metavar="DIR", help="content photos (default: offline)")
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument("--size", type=int, default=d.size, help="training crop side")
    p.add_argument("--batch-size", type=int, default=d.batch)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--network", default=d.network, choices=list(NETWORKS))
    p.add_argument("--style-weight", type=float, default=None, help="default: the network's")
    p.add_argument("--content-weight", type=float, default=d.content_weight)
    p.add_argument("--tv-weight", type=float, default=None, help="default: the network's")
    p.add_argument("--paper-size", action="store_true",
                   help="the paper's network (32-64-128, 5 blocks), not the slim one")  # fmt: skip
    p.add_argument("--save-every", type=int, default=d.save_every)
    p.add_argument("--gallery-every", type=int, default=d.gallery_every)
    p.add_argument("--resume", action="store_true", help="continue the run in --name")
    add_runtime_args(p)
    p.set_defaults(func=run_train)
    declare_paths(p, inputs={"style_image": "image", "content": "folder"},
                  outputs={"name": "folder"})  # fmt: skip


def run_train(args: argparse.Namespace) -> int:
    from photogen.faststyle.network import FastStyleConfig
    from photogen.faststyle.train import TrainConfig, train

    device = setup_runtime(args)
    net = FastStyleConfig.paper() if args.paper_size else FastStyleConfig()
    config = TrainConfig(style=str(args.style_image), steps=args.steps, size=args.size,
                         batch=args.batch_size, lr=args.lr, network=args.network,
                         content_weight=args.content_weight, style_weight=args.style_weight,
                         tv_weight=args.tv_weight, channels=net.channels, blocks=net.blocks,
                         seed=args.seed, save_every=args.save_every,
                         gallery_every=args.gallery_every)  # fmt: skip
    try:
        config.validate()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    out = train(config, args.name, resume=args.resume, content=args.content, device=device,
                log=lambda m: info(args, m))  # fmt: skip
    info(args, f"-> {out}")
    return 0


def _fast_precision(args: argparse.Namespace, model, photo, device, engine: str = "torch"):
    """--precision for a fast style network, resolved on the first picture (at most 512 px
    long: the comparison, not the print, is what is wanted)."""
    from photogen.core.precision import autocast
    from photogen.core.resample import resize
    from photogen.gatys.pyramid import fit_max_side

    h, w = photo.shape[-2:]
    if max(h, w) > 512:
        photo = resize(photo, fit_max_side(h, w, 512))

    def probe(precision: str):
        with autocast(precision, device):
            return model.stylize(photo[:, :3].to(device)).float().cpu()

    return resolve_precision(args, device, probe, engine)


def run_fast(args: argparse.Namespace, device) -> int:
    """``--model``: the trained network on each photo (or video frame)."""
    from photogen.faststyle.train import load_model

    if args.style:
        raise UsageError("--model replaces the style images: give one or the other")
    try:
        model = load_model(args.model).to(device)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    video = video_input(args, [args.content])
    if video is not None:
        from photogen.faststyle.video import FastStyleFrames

        temporal = not args.no_temporal
        frame = first_frame(video)
        precision = _fast_precision(args, model, frame, device, args.engine)
        processor = FastStyleFrames(model, temporal, engine=args.engine, precision=precision)
        settings = {"method": "stylize-fast", "model": str(args.model), "temporal": temporal,
                    "engine": args.engine, "precision": precision}  # fmt: skip
        return run_video(args, video, processor, settings, "stylize")
    contents = list_images(args.content)
    batch = len(contents) > 1
    check_output(args.output, batch)
    from photogen.core.precision import autocast

    first = first_photo(args, contents)
    precision = (_fast_precision(args, model, first, device) if first is not None
                 else resolve_precision(args, device))  # fmt: skip

    def work(path: Path) -> Path:
        import torch

        content = read_image(path, max_pixels=args.max_pixels)[:, :3]
        with torch.no_grad(), autocast(precision, device):
            out = model.stylize(content.to(device)).float().cpu()
        return save_image(out, output_path(args.output, path.stem, "_stylized", batch),
                          bit_depth=args.bit_depth)  # fmt: skip

    return run_batch(args, contents, work)


def run(args: argparse.Namespace) -> int:
    device = setup_runtime(args)
    check_bit_depth(args)
    if args.model:
        return run_fast(args, device)
    if args.engine != "torch":
        raise UsageError("--engine applies to a fast style network (--model) on a video")
    if not args.style:
        raise UsageError("give one or more style images (or --model RUN)")
    config = StyleConfig(
        network=args.network,
        content_layer=args.content_layer,
        style_layers=parse_layers(args.style_layers),
        content_weight=args.content_weight,
        style_weight=args.style_weight,
        tv_weight=args.tv_weight,
        max_size=args.max_size,
        levels=args.levels,
        steps=args.steps,
        coarse_steps=args.coarse_steps,
        init=args.init,
        style_scale=args.style_scale,
        style_weights=_weights_list(args.style_weights, len(args.style)),
        preserve_colors=args.preserve_colors,
        optimizer=args.optimizer,
        lr=args.lr,
        history_size=args.history_size,
        multires=args.multires,
        seed=args.seed,
        max_memory=int(args.max_memory * 2**30) if args.max_memory else None,
        bf16=resolve_precision(args, device, fp32_because=GATYS_FP32) == "bf16",
    )
    config.validate(len(args.style))
    spec = NETWORKS[config.network]
    layers = [
        *(config.style_layers or spec.style_layers),
        config.content_layer or spec.content_layer,
    ]
    kwargs = {"weights": args.weights} if args.weights else {}
    extractor = FeatureExtractor(build_network(config.network, **kwargs), layers).to(device)
    styles = [read_image(p, max_pixels=args.max_pixels) for p in args.style]
    video = video_input(args, [args.content])
    if video is not None:
        from photogen.gatys.video import StylizeFrames

        temporal = not args.no_temporal
        processor = StylizeFrames(styles, config, temporal, device=device, extractor=extractor)
        settings = {"method": "stylize", "style": [str(s) for s in args.style],
                    "config": repr(config), "temporal": temporal}  # fmt: skip
        return run_video(args, video, processor, settings, "stylize")
    contents = list_images(args.content)
    batch = len(contents) > 1
    check_output(args.output, batch)

    def work(path: Path) -> Path:
        content = read_image(path, max_pixels=args.max_pixels)
        h, w = fit_max_side(*content.shape[-2:], config.max_size)
        need = memory_needed(extractor, (h, w), config.history_size)
        info(args, f"{path.name}: {w}x{h}, estimated peak memory {format_bytes(need)}")
        out = output_path(args.output, path.stem, "_stylized", batch)
        with Progress(args, config.steps * (config.levels or 1), path.stem, out.parent) as progress:
            result = stylize(content, styles, config, extractor, device, progress)
        return save_image(result.image, out, bit_depth=args.bit_depth)

    return run_batch(args, contents, work)
