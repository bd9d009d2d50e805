"""``photogen pix2pix apply``: a trained generator on images, or on a video's frames."""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from photogen.cli.common import (
    UsageError,
    add_precision_arg,
    add_runtime_args,
    check_output,
    error,
    first_frame,
    first_photo,
    info,
    output_path,
    resolve_precision,
    setup_runtime,
)
from photogen.cli.paths import declare_paths
from photogen.cli.video import add_video_args, run_video, video_input
from photogen.core.image import list_images
from photogen.core.resample import resize
from photogen.pix2pix.data import to_model
from photogen.pix2pix.video import TRANSFORMS


def add_apply_parser(cmds) -> None:
    ap = cmds.add_parser(
        "apply",
        help="translate images",
        description="Translate images with a generator; the network sees SIZE x SIZE, the "
        "result is resized back to each input's size (unless --no-keep-size). Names are kept.",
    )
    ap.add_argument("inputs", nargs="+", help="image file(s), folder(s) or glob(s), or one video")
    ap.add_argument("--model", required=True, help="released name, weights file or run folder")
    ap.add_argument("-o", "--output", type=Path, required=True, help="output file or folder")
    ap.add_argument(
        "--size", type=int, default=None, help="network input side (default: the run's, or 256)"
    )
    ap.add_argument("--no-keep-size", action="store_true", help="write SIZE x SIZE results")
    ap.add_argument("--batch-size", type=int, default=8, help="images per forward pass")
    ap.add_argument(
        "--input-transform",
        choices=TRANSFORMS,
        default="none",
        help="videos: make each frame into the model's input as its training pairs were "
        "(edges, gray, blur: 'pix2pix make-pairs'), e.g. a photo video into an edges2x model",
    )
    add_video_args(ap, "default: each output blended with the previous one along the flow",
                   engines=True)  # fmt: skip
    _mode_args(ap)
    add_precision_arg(ap)
    add_runtime_args(ap)
    ap.set_defaults(func=run_apply)
    declare_paths(ap, {"inputs": "images", "model": "model"}, {"output": "file-or-folder"})


def _mode_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--eval",
        action="store_true",
        help="running batch-norm statistics and no dropout (default: the paper's test mode, "
        "dropout on and batch norm on each image's own statistics)",
    )


def _run_meta(run: Path) -> dict:
    from safetensors import safe_open

    path = run / "generator.safetensors"
    if not path.is_file():
        return {}
    with safe_open(str(path), "pt") as f:
        return dict(f.metadata() or {})


def _size(args: argparse.Namespace) -> int:
    """The network's input side: --size, else the run's crop size, else 256."""
    return args.size or int(_run_meta(Path(args.model)).get("crop_size", 256))


def _precision(args: argparse.Namespace, translator, x, device, engine: str = "torch") -> str:
    """--precision resolved on the first input ``x`` (the network's, in [-1, 1])."""
    from photogen.pix2pix.data import from_model

    def probe(precision: str):
        return from_model(translator(x, [args.seed], precision=precision))

    return resolve_precision(args, device, probe, engine)


def _apply_video(args: argparse.Namespace, video: Path, translator, size: int) -> int:
    from photogen.pix2pix.video import Pix2PixFrames, model_input

    x = model_input(first_frame(video), size, args.input_transform)[1]
    translator.precision = _precision(args, translator, x, translator.device, args.engine)
    temporal = not args.no_temporal
    processor = Pix2PixFrames(translator, size, args.seed, args.input_transform, temporal,
                              keep_size=not args.no_keep_size, engine=args.engine)  # fmt: skip
    settings = {"method": "pix2pix", "model": str(args.model), "size": size,
                "seed": args.seed, "eval": args.eval, "temporal": temporal,
                "transform": args.input_transform,
                "precision": translator.precision}  # fmt: skip
    return run_video(args, video, processor, settings, "pix2pix")


def run_apply(args: argparse.Namespace) -> int:
    from photogen.core.gallery import Section, Tile, write_gallery
    from photogen.pix2pix.infer import BatchTranslator, translate_files
    from photogen.pix2pix.models import load_generator

    device = setup_runtime(args)
    video = video_input(args, args.inputs)
    if video is None and args.input_transform != "none":
        raise UsageError("--input-transform is for videos (make-pairs builds image inputs)")
    if video is not None:
        translator = BatchTranslator(load_generator(args.model), args.eval, device)
        return _apply_video(args, video, translator, _size(args))
    paths = list_images(args.inputs, recursive=False)
    if not paths:
        raise UsageError("no images found in " + " ".join(args.inputs))
    batch = len(paths) > 1 or any(Path(i).is_dir() for i in args.inputs)
    check_output(args.output, batch)
    translator = BatchTranslator(load_generator(args.model), args.eval, device)
    size = _size(args)
    first = first_photo(args, paths)
    translator.precision = (_precision(args, translator, to_model(resize(first, size, "bicubic")),
                                       device) if first is not None
                            else resolve_precision(args, device))  # fmt: skip
    outputs = [output_path(args.output, p.stem, "", batch) for p in paths]
    bar = tqdm(total=len(paths), desc="pix2pix", unit="img", disable=args.quiet)

    def on_error(path: Path, exc: Exception) -> None:
        error(str(exc) if str(path) in str(exc) else f"{path}: {exc}")
        bar.update(1)

    failed = translate_files(
        translator, paths, outputs, size, not args.no_keep_size, args.batch_size, args.seed,
        args.max_pixels, on_error=on_error, on_done=lambda p: bar.update(1),
    )  # fmt: skip
    bar.close()
    if batch:
        done = [(p, o) for p, o in zip(paths, outputs, strict=True) if o.is_file()]
        tiles = [t for p, o in done for t in (Tile(p.resolve(), p.name), Tile(o, "pix2pix"))]
        write_gallery(args.output / "index.html", f"pix2pix: {args.model}", [Section("", tiles)])
    info(args, f"{len(paths) - failed} of {len(paths)} translated -> {args.output}")
    return 1 if failed else 0
