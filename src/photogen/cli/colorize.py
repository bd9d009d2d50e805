"""``photogen colorize``: automatic colorization (Zhang, Isola, Efros 2016).

``photogen colorize IMAGE|DIR|GLOB... -o OUT`` colorizes; ``photogen colorize train|prior|eval``
train a network, compute a class-rebalancing prior and score models (see ``--help`` of each).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
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
    resolve_precision,
    setup_runtime,
)
from photogen.cli.paths import declare_paths
from photogen.cli.video import add_video_args, run_video, video_input
from photogen.core.gallery import pyplot, save_figure
from photogen.core.image import ImageError, list_images
from photogen.core.weights import WeightsError

SUBCOMMANDS = ("train", "prior", "eval")
_WRITABLE = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp"}


def add_parser(sub) -> None:
    p = sub.add_parser(
        "colorize",
        help="colorize black-and-white photos (Zhang et al. 2016); also: colorize train|prior|eval",
        description="Colorize photos of any size: the network sees L at 256 px, its ab is "
        "upsampled and recombined with the photo's own L. Grey or colour input (only L is used). "
        "File names are kept. Sub-commands: 'photogen colorize train DIR', 'photogen colorize "
        "prior DIR', 'photogen colorize eval DIR' (each has --help).",
    )
    p.add_argument("inputs", nargs="+", help="image file(s), folder(s) or glob(s), or one video")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help="output file, or folder (a video file for a video)")  # fmt: skip
    _model_args(p)
    p.add_argument(
        "--hint",
        action="append",
        default=[],
        metavar="X,Y,A,B",
        help="colour hint, any model: the photo's pixel (X, Y) (x right, y down) and its region "
        "get ab (A, B) (CIE Lab, about -110..110); repeatable. On a video: pixels of the first "
        "frame, carried along the optical flow",
    )
    p.add_argument(
        "--hints",
        type=Path,
        metavar="SCRIBBLES.png",
        help="a picture of coloured marks over the grey photo (or on a transparent layer): each "
        "mark colours its region (Levin et al. 2004); any size with the photo's aspect ratio",
    )
    add_precision_arg(p)
    p.add_argument("--recursive", action="store_true", help="walk folders recursively")
    add_video_args(p, "default: each frame's ab blended with the previous frame's along the "
                   "optical flow", engines=True)  # fmt: skip
    add_runtime_args(p)
    p.set_defaults(func=run)
    declare_paths(p, {"inputs": "images", "model": "model", "hints": "file"},
                  {"output": "file-or-folder"})  # fmt: skip

    t = sub.add_parser(
        "colorize-train",
        prog="photogen colorize train",
        description="Train a colorizer on a folder of colour photos: random crops, Adam, "
        "class-rebalanced soft cross-entropy at 1/4 resolution, resumable checkpoints; under "
        "torchrun it runs DistributedDataParallel (--batch-size is per process). Writes RUN/"
        "model.safetensors, checkpoint.pt, prior.safetensors, log.csv, loss.png, gallery/.",
    )
    t.add_argument("data", nargs="+", help="folder(s) of colour photos (searched recursively)")
    t.add_argument("--name", required=True, type=Path, help="run folder")
    t.add_argument(
        "--model",
        default="lite",
        choices=["lite", "lite-hints", "eccv16"],
        help="lite-hints: user-guided (simulated hints while training; --init lite to start "
        "from the bundled automatic model)",
    )
    t.add_argument("--steps", type=int, default=2000)
    t.add_argument("--batch-size", type=int, default=16, help="per process")
    t.add_argument("--crop", type=int, default=176, help="random crop size (multiple of 8)")
    t.add_argument("--lr", type=float, default=None, help="default: 5e-4 lite, 3e-5 eccv16")
    t.add_argument(
        "--weight-decay", type=float, default=None, help="default: 1e-5 lite, 1e-3 eccv16"
    )
    t.add_argument("--k", type=int, default=5, help="nearest bins in the soft encoding")
    t.add_argument("--prior", help="prior file from 'colorize prior' (default: computed)")
    t.add_argument("--val-fraction", type=float, default=0.05, help="photos held out")
    t.add_argument("--val-every", type=int, default=250, help="validation loss + gallery every N")
    t.add_argument("--save-every", type=int, default=100, help="checkpoint every N steps")
    t.add_argument("--init", help="weights to start from (fine-tuning)")
    t.add_argument(
        "--freeze-encoder",
        action="store_true",
        help="lite: train the decoder only (1.4x faster steps, measured less accurate)",
    )
    t.add_argument(
        "--recolor",
        type=float,
        default=0.0,
        help="lite-hints: fraction of training photos given a random hue, so that the network "
        "learns to follow hints of any colour (default 0; the bundled model: 0.5)",
    )
    t.add_argument(
        "--recolor-regional",
        type=float,
        default=0.0,
        help="lite-hints: of the recoloured photos, the fraction turned only within a random "
        "band of lightness (so one hint does not tint the whole photo)",
    )
    t.add_argument("--resume", action="store_true", help="continue the run in --name")
    add_runtime_args(t)
    t.set_defaults(func=run_train)
    declare_paths(t, {"data": "folder", "prior": "file", "init": "model"}, {"name": "folder"})

    pr = sub.add_parser(
        "colorize-prior",
        prog="photogen colorize prior",
        description="Empirical distribution of the 313 ab bins over a folder of photos (for "
        "class rebalancing), saved as safetensors, with a plot of it.",
    )
    pr.add_argument("data", nargs="+", help="folder(s) of colour photos")
    pr.add_argument("-o", "--output", type=Path, default=Path("prior.safetensors"))
    add_runtime_args(pr)
    pr.set_defaults(func=run_prior)
    declare_paths(pr, {"data": "folder"}, {"output": "file"})

    e = sub.add_parser(
        "colorize-eval",
        prog="photogen colorize eval",
        description="The paper's metrics on a folder of colour photos: AuC of cumulative pixel "
        "accuracy over ab thresholds 0..150 (plain and class-rebalanced), PSNR and colourfulness; "
        "ground truth and grey as baseline rows. Writes OUT/metrics.json and OUT/curves.png.",
    )
    e.add_argument("data", nargs="+", help="folder(s) of colour photos")
    e.add_argument(
        "--model", action="append", default=None, help="model name, file or run folder; repeat"
    )
    e.add_argument("--temperature", type=float, default=0.38, help="annealed-mean temperature")
    e.add_argument("--size", type=int, default=256, help="evaluation resolution")
    e.add_argument("-o", "--output", type=Path, default=Path("colorize-eval"))
    add_runtime_args(e)
    e.set_defaults(func=run_eval)
    declare_paths(e, {"data": "folder", "model": "model"}, {"output": "folder"})
    # reached as "colorize train|prior|eval" (see rewrite_argv): keep them out of the list
    sub._choices_actions[:] = [a for a in sub._choices_actions if "-" not in a.dest]


def rewrite_argv(argv: list[str]) -> list[str]:
    """``colorize train ...`` -> ``colorize-train ...`` (argparse cannot mix both forms)."""
    if len(argv) >= 2 and argv[0] == "colorize" and argv[1] in SUBCOMMANDS:
        return [f"colorize-{argv[1]}", *argv[2:]]
    return argv


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        default="auto",
        help="auto (default: the best installed, siggraph17 > eccv16 > the bundled lite), lite, "
        "lite-hints, eccv16, siggraph17 (official weights: 'photogen weights fetch NAME' once), "
        "a weights file, or a training run folder",
    )
    p.add_argument(
        "--temperature", type=float, default=0.38, help="annealed mean: 1 = mean, ->0 = mode"
    )
    p.add_argument("--size", type=int, default=256, help="resolution the network sees")


def _parse_hints(texts: list[str]) -> list[tuple[float, float, float, float]]:
    out = []
    for text in texts:
        try:
            x, y, a, b = (float(v) for v in text.split(","))
        except ValueError:
            raise UsageError(f"--hint {text!r}: expected X,Y,A,B numbers") from None
        out.append((x, y, a, b))
    return out


def _output_for(out: Path, src: Path, batch: bool) -> Path:
    if not batch and out.suffix:
        return out
    suffix = src.suffix.lower() if src.suffix.lower() in _WRITABLE else ".png"
    return out / f"{src.stem}{suffix}"


def _load(args: argparse.Namespace, device):
    """The colorizer of ``--model``; ``auto`` names its choice in one line on stderr."""
    from photogen.colorize.pipeline import choose_auto, load_model

    spec = args.model
    if spec == "auto":
        spec, line = choose_auto()
        info(args, line)
    return load_model(spec, args.temperature).to(device)


def _run_video(args: argparse.Namespace, src: Path, device) -> int:
    from photogen.colorize.video import ColorizeFrames

    if args.hints:
        raise UsageError("--hints (a scribble picture) is for photos; on a video give --hint "
                         "points of the first frame")  # fmt: skip
    points = _parse_hints(args.hint)
    model = _load(args, device)
    temporal = not args.no_temporal
    precision = _precision(args, model, first_frame(src), device, args.engine)
    processor = ColorizeFrames(model, args.size, temporal, device=device, engine=args.engine,
                               hints=points, precision=precision)  # fmt: skip
    settings = {"method": "colorize", "model": getattr(model, "name", str(args.model)),
                "size": args.size, "temperature": args.temperature, "temporal": temporal,
                "hints": [list(p) for p in points], "precision": precision}  # fmt: skip
    return run_video(args, src, processor, settings, "colorize")


def _precision(args: argparse.Namespace, model, photo: torch.Tensor, device,
               engine: str = "torch") -> str:  # fmt: skip
    """--precision resolved on the first photo (or frame): auto compares its colours."""
    from photogen.colorize.pipeline import colorize_tensor

    def probe(precision: str) -> torch.Tensor:
        amp = torch.bfloat16 if precision == "bf16" else None
        return colorize_tensor(model, photo, args.size, device, None, amp)

    return resolve_precision(args, device, probe, engine)


def _scribbles(path: Path | None):
    """The strokes of a scribble picture (``--hints``), or None."""
    from photogen.colorize.propagate import scribble_hints
    from photogen.core.image import read_image

    if path is None:
        return None
    ab, mask = scribble_hints(read_image(path, keep_alpha=True))
    if not mask.any():
        raise UsageError(f"{path}: no coloured marks found (chroma >= 10, or paint on a "
                         "transparent layer)")  # fmt: skip
    return ab, mask


def run(args: argparse.Namespace) -> int:
    from photogen.colorize.pipeline import colorize_files
    from photogen.colorize.propagate import ColourHints

    device = setup_runtime(args)
    if args.temperature <= 0:
        raise UsageError("--temperature must be > 0")
    if args.size % 32:
        raise UsageError("--size must be a multiple of 32")
    video = video_input(args, args.inputs)
    if video is not None:
        return _run_video(args, video, device)
    paths = list_images(args.inputs, recursive=args.recursive)
    if not paths:
        raise UsageError("no images found in " + " ".join(args.inputs))
    batch = len(paths) > 1 or any(Path(i).is_dir() for i in args.inputs)
    check_output(args.output, batch)
    points = _parse_hints(args.hint)
    strokes = _scribbles(args.hints)
    model = _load(args, device)
    first = first_photo(args, paths)
    precision = (_precision(args, model, first, device) if first is not None
                 else resolve_precision(args, device))  # fmt: skip
    amp = torch.bfloat16 if precision == "bf16" else None

    hints = ColourHints(points=points, strokes=strokes)  # checked against each photo

    def hints_for(rgb: torch.Tensor) -> ColourHints:
        return hints

    bar = tqdm(total=len(paths), desc="colorize", unit="img", disable=args.quiet)

    def on_error(path: Path, exc: Exception) -> None:
        msg = str(exc) if isinstance(exc, ImageError) else f"{path}: {exc}"
        tqdm.write(f"photogen: error: {msg}", file=sys.stderr)
        bar.update(1)

    outputs = [_output_for(args.output, p, batch) for p in paths]
    failed = colorize_files(
        model, paths, outputs, args.size, device, amp,
        hints_for=hints_for if hints else None,
        max_pixels=args.max_pixels, on_error=on_error, on_done=lambda p: bar.update(1),
    )  # fmt: skip
    bar.close()
    info(args, f"{len(paths) - failed} of {len(paths)} colorized -> {args.output}")
    return 1 if failed else 0


def run_train(args: argparse.Namespace) -> int:
    from photogen.colorize.train import TrainConfig, train

    device = setup_runtime(args)
    cfg = TrainConfig(
        data=args.data,
        run_dir=str(args.name),
        model=args.model,
        steps=args.steps,
        batch_size=args.batch_size,
        crop=args.crop,
        lr=args.lr,
        weight_decay=args.weight_decay,
        k=args.k,
        prior=args.prior,
        val_fraction=args.val_fraction,
        val_every=args.val_every,
        save_every=args.save_every,
        seed=args.seed,
        init=args.init,
        freeze_encoder=args.freeze_encoder,
        recolor=args.recolor,
        recolor_regional=args.recolor_regional,
    )

    def bar(it, **kw):
        return tqdm(it, disable=args.quiet, unit="step", desc="train", **kw)

    summary = train(cfg, device, resume=args.resume, progress=bar, log=lambda m: info(args, m))
    info(args, f"{summary['steps']} steps, last loss {summary['final_loss']} -> {args.name}")
    return 0


def run_prior(args: argparse.Namespace) -> int:
    from photogen.colorize.data import bin_histogram, load_photos
    from photogen.colorize.prior import save_prior

    setup_runtime(args)
    images, _ = load_photos(args.data, 256, min_side=8, on_error=error)
    if not images:
        raise UsageError("no readable photos in " + " ".join(args.data))
    counts = bin_histogram(tqdm(images, desc="prior", disable=args.quiet))
    save_prior(args.output, counts, len(images))
    _plot_prior(counts, args.output.with_suffix(".png"))
    used = int((counts > 0).sum())
    info(args, f"{len(images)} photos, {used} of 313 bins used -> {args.output}")
    return 0


def _plot_prior(counts: torch.Tensor, path: Path) -> None:
    plt = pyplot()
    from photogen.colorize.bins import gamut_bins

    bins = gamut_bins().numpy()
    p = (counts / counts.sum()).numpy()
    fig, ax = plt.subplots(figsize=(4.2, 4), dpi=100)
    sc = ax.scatter(
        bins[:, 1], bins[:, 0], c=p.clip(1e-6).__pow__(0.25), s=40, marker="s", cmap="viridis"
    )
    ax.set_xlabel("b")
    ax.set_ylabel("a")
    ax.invert_yaxis()
    ax.set_title("ab prior (p^0.25)")
    fig.colorbar(sc)
    fig.tight_layout()
    save_figure(fig, path)


def run_eval(args: argparse.Namespace) -> int:
    from photogen.colorize.evaluate import evaluate, write_report
    from photogen.colorize.pipeline import load_model

    device = setup_runtime(args)
    paths = list_images(args.data, recursive=True)
    if not paths:
        raise UsageError("no images found in " + " ".join(args.data))
    models, failed = {}, 0
    for spec in args.model or ["lite"]:
        try:
            models[str(spec)] = load_model(spec, args.temperature)
        except (ValueError, RuntimeError, OSError, WeightsError) as exc:
            failed = 1
            error(f"--model {spec}: {exc}")
    result = evaluate(
        models,
        paths,
        args.size,
        device,
        on_error=error,
        progress=lambda it: tqdm(it, desc="eval", unit="img", disable=args.quiet),
    )
    json_path, png = write_report(result, args.output)
    if not args.quiet:
        print(f"{'row':<28}{'AuC':>7}{'AuC rebal.':>12}{'PSNR':>8}{'colourful.':>12}")
        for name, row in result["rows"].items():
            ps = "inf" if row["psnr"] is None else f"{row['psnr']:.2f}"
            print(
                f"{name[:27]:<28}{row['auc']:>7.2f}{row['auc_rebalanced']:>12.2f}{ps:>8}{row['colourfulness']:>12.2f}"
            )
        skipped = (
            f" ({result['grey_skipped']} grey photos skipped)" if result["grey_skipped"] else ""
        )
        info(args, f"{result['images']} images{skipped} -> {json_path}, {png}")
    return failed
