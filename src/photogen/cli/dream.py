"""``photogen dream``: DeepDream (Mordvintsev, Olah, Tyka 2015)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from photogen.cli.common import (
    UsageError,
    add_precision_arg,
    add_runtime_args,
    check_output,
    info,
    output_path,
    resolve_precision,
    run_batch,
    setup_runtime,
)
from photogen.cli.paths import declare_paths
from photogen.cli.video import add_video_args, run_video, video_input
from photogen.core.image import list_images, read_image, save_image
from photogen.dream import DreamConfig, dream
from photogen.nets.features import NETWORKS

# why --precision auto is float32 here (chelsea 384x256, 3 octaves x 5 steps, a CPU with AMX)
DREAM_FP32 = "DeepDream in bf16 was no faster (2.6 s against 2.1 s) and dreamt another picture"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "dream",
        help="DeepDream: grow what a network's layer sees in a photo (Mordvintsev et al. 2015)",
        description="Gradient ascent on one layer's activations over octaves, with jitter (the "
        "authors' notebook defaults). PHOTO may be a file, folder or glob; --layers lists the "
        "network's layer names.",
    )
    p.add_argument("photo", nargs="?", help="photo, folder or glob, or a video file")
    p.add_argument("-o", "--output", type=Path, help="output file, or folder")
    d = DreamConfig()
    p.add_argument("--network", default=d.network, choices=list(NETWORKS))
    p.add_argument("--layer", default=d.layer,
                   help=f"the layer to dream with (default {d.layer}: stride 16, as the "
                   "authors' inception_4c); --layers lists them")  # fmt: skip
    p.add_argument("--layers", action="store_true", help="list the network's layers and stop")
    p.add_argument("--guide", help="a picture to dream towards (its features at the layer)")
    p.add_argument("--octaves", type=int, default=d.octaves)
    p.add_argument("--octave-scale", type=float, default=d.octave_scale)
    p.add_argument("--steps", type=int, default=d.steps, help="ascent steps per octave")
    p.add_argument("--step-size", type=float, default=d.step_size,
                   help="mean change a step, in 8-bit grey levels")  # fmt: skip
    p.add_argument("--jitter", type=int, default=d.jitter, help="random roll, pixels")
    p.add_argument("--tile", type=int, default=d.tile,
                   help="largest side computed at once (bounds memory)")  # fmt: skip
    add_precision_arg(p, auto=f"fp32 ({DREAM_FP32})")
    add_video_args(p, "default: each frame's dream blended with the previous one carried "
                   "along the optical flow")  # fmt: skip
    add_runtime_args(p)
    p.set_defaults(func=run)
    declare_paths(p, inputs={"photo": "images", "guide": "image"},
                  outputs={"output": "file-or-folder"})  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from photogen.dream.dream import layers_of

    if args.layers:
        print("\n".join(layers_of(args.network)))
        return 0
    if not args.photo or args.output is None:
        raise UsageError("give a PHOTO and -o OUTPUT (or --layers)")
    device = setup_runtime(args)
    config = DreamConfig(network=args.network, layer=args.layer, octaves=args.octaves,
                         octave_scale=args.octave_scale, steps=args.steps,
                         step_size=args.step_size, jitter=args.jitter, tile=args.tile,
                         seed=args.seed)  # fmt: skip
    config.precision = resolve_precision(args, device, fp32_because=DREAM_FP32)
    try:
        config.validate()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    names = layers_of(config.network)
    if config.layer not in names:
        raise UsageError(f"--layer {config.layer!r}: {config.network} has {', '.join(names)}")
    from photogen.nets.features import FeatureExtractor, build_network

    extractor = FeatureExtractor(build_network(config.network), [config.layer]).to(device)
    guide = read_image(args.guide, max_pixels=args.max_pixels) if args.guide else None
    video = video_input(args, [args.photo])
    if video is not None:
        from photogen.dream.video import DreamFrames

        temporal = not args.no_temporal
        processor = DreamFrames(config, extractor, guide, temporal, device=device)
        settings = {"method": "dream", "config": vars(config), "temporal": temporal,
                    "guide": str(args.guide) if args.guide else None}  # fmt: skip
        return run_video(args, video, processor, settings, "dream")
    photos = list_images(args.photo)
    batch = len(photos) > 1
    check_output(args.output, batch)

    def work(path: Path) -> Path:
        photo = read_image(path, max_pixels=args.max_pixels)
        out = output_path(args.output, path.stem, "_dream", batch)
        with tqdm(total=config.octaves * config.steps, desc=path.stem, disable=args.quiet,
                  unit="step", leave=False) as bar:  # fmt: skip

            def progress(done: int, total: int, image=None) -> None:
                bar.total = total
                bar.update(done - bar.n)

            result = dream(photo, config, extractor, guide, device, progress)
        rise = ", ".join(f"{a:.3g} -> {b:.3g}" for a, b in
                         zip(result.objective_start, result.objective, strict=True))  # fmt: skip
        info(args, f"{path.name}: objective per octave {rise}")
        return save_image(result.image, out)

    return run_batch(args, photos, work)
