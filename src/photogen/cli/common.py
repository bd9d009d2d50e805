"""Pieces every command shares: device/thread/quiet flags, progress bars, batch runs."""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from tqdm import tqdm

from photogen.core.device import DEVICE_CHOICES, select_device, set_threads
from photogen.core.image import DEFAULT_MAX_PIXELS, ImageError, save_image
from photogen.core.training import LeftoverRunError
from photogen.core.weights import WeightsError
from photogen.gatys.optimize import StepInfo


class UsageError(Exception):
    """Bad command-line values that argparse cannot catch (exit code 2)."""


def add_runtime_args(p: argparse.ArgumentParser) -> None:
    """--device, --threads, --seed, --quiet, --max-pixels."""
    g = p.add_argument_group("runtime")
    g.add_argument("--device", default="auto", help=f"one of {', '.join(DEVICE_CHOICES)} or cuda:N")
    g.add_argument(
        "--threads", type=int, default=None, help="CPU threads (default: physical cores)"
    )
    g.add_argument(
        "--seed", type=int, default=0, help="random seed; same seed + device = same image"
    )
    g.add_argument("-q", "--quiet", action="store_true", help="no progress bars or messages")
    g.add_argument(
        "--max-pixels",
        type=int,
        default=DEFAULT_MAX_PIXELS,
        help="refuse input images with more pixels (decompression-bomb guard)",
    )


def add_bit_depth_arg(p: argparse.ArgumentParser) -> None:
    """--bit-depth 8|16 (16: PNG or TIFF; for results computed in float, as optimised images)."""
    p.add_argument(
        "--bit-depth",
        type=int,
        choices=(8, 16),
        default=8,
        help="bits per channel of the output (16 needs .png or .tif; folders get .png)",
    )


def check_bit_depth(args: argparse.Namespace) -> None:
    """Refuse ``--bit-depth 16`` with a format that has no 16-bit form, before any work."""
    suffix = args.output.suffix.lower()
    if args.bit_depth == 16 and suffix and suffix not in (".png", ".tif", ".tiff"):
        raise UsageError(f"--bit-depth 16 needs a .png or .tif output, not {suffix}")


def setup_runtime(args: argparse.Namespace) -> torch.device:
    """Apply --threads and resolve --device."""
    set_threads(args.threads)
    try:
        return select_device(args.device)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def parse_size(text: str | None) -> tuple[int, int] | None:
    """``"256"`` -> (256, 256); ``"192x256"`` (HxW) -> (192, 256)."""
    if text is None:
        return None
    try:
        parts = [int(v) for v in text.lower().split("x")]
    except ValueError:
        raise UsageError(f"size {text!r} is not N or HxW") from None
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or min(parts) < 16:
        raise UsageError(f"size {text!r} must be N or HxW with both sides >= 16")
    return parts[0], parts[1]


def parse_layers(text: str | None) -> dict[str, float] | None:
    """``"relu1_1,pool1:0.5"`` -> {"relu1_1": 1.0, "pool1": 0.5}."""
    if not text:
        return None
    out: dict[str, float] = {}
    for item in text.split(","):
        name, _, weight = item.strip().partition(":")
        try:
            out[name] = float(weight) if weight else 1.0
        except ValueError:
            raise UsageError(f"layer weight in {item!r} is not a number") from None
    return out


_debug = False


def set_debug(on: bool) -> None:
    """Turn traceback printing on for this process (``--debug``)."""
    global _debug
    _debug = on


def debug_enabled() -> bool:
    """``--debug`` or ``PHOTOGEN_DEBUG=1``: print tracebacks with the one-line errors."""
    return _debug or os.environ.get("PHOTOGEN_DEBUG", "") not in ("", "0")


def error(msg: str) -> None:
    """One line on stderr."""
    print(f"photogen: error: {msg}", file=sys.stderr)


def describe_error(exc: BaseException) -> str:
    """One line for any exception: ``PATH: reason`` for file errors, the message otherwise."""
    if isinstance(exc, ImageError | UsageError):
        return str(exc)
    if isinstance(exc, LeftoverRunError):
        return f"{exc}: add --resume to continue it, or delete it"
    if isinstance(exc, OSError) and exc.filename is not None:
        reason = (exc.strerror or str(exc)).rstrip(".")
        reason = reason[:1].lower() + reason[1:]
        target = f" -> {exc.filename2}" if exc.filename2 is not None else ""
        return f"{exc.filename}{target}: {reason}"
    if isinstance(exc, OSError | ValueError | RuntimeError | FloatingPointError):
        return str(exc) or type(exc).__name__
    if isinstance(exc, WeightsError):
        return str(exc)
    return (
        f"internal error ({type(exc).__name__}: {exc}); rerun with --debug for the traceback "
        "and please report it"
    )


def info(args: argparse.Namespace, msg: str) -> None:
    """A status line on stderr unless --quiet."""
    if not args.quiet:
        tqdm.write(msg, file=sys.stderr)


class Progress:
    """A tqdm bar over all evaluations of a multi-level optimisation, plus --save-every."""

    def __init__(self, args, total: int, label: str, snapshot_dir: Path | None = None):
        self.bar = tqdm(total=total, desc=label, disable=args.quiet, unit="eval", leave=False)
        self.save_every = getattr(args, "save_every", 0) or 0
        self.snapshot_dir = snapshot_dir
        self.label = label
        self.count = 0
        self.level = -1

    def __call__(self, info: StepInfo) -> None:
        self.count += 1
        if info.level != self.level:
            self.level = info.level
            h, w = info.image.shape[-2:]
            self.bar.set_description(f"{self.label} [{info.level + 1}/{info.levels} {w}x{h}]")
            # Levels can be fewer than asked (tiny images); re-estimate what is left.
            self.bar.total = self.count - 1 + info.steps * (info.levels - info.level)
            self.bar.refresh()
        self.bar.update(1)
        self.bar.set_postfix(loss=f"{info.loss:.4g}", refresh=False)
        if self.save_every and self.snapshot_dir and self.count % self.save_every == 0:
            save_image(
                info.image.clamp(0, 1), self.snapshot_dir / f"{self.label}_{self.count:05d}.png"
            )

    def close(self) -> None:
        self.bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def run_batch(
    args: argparse.Namespace, items: Iterable, work: Callable, name: Callable = str
) -> int:
    """Run ``work(item)`` for each item; report failures in one line each and go on.

    Returns:
        0 when all succeeded, 1 when any failed.
    """
    failed = 0
    for item in items:
        t0 = time.perf_counter()
        try:
            result = work(item)
        except (KeyboardInterrupt, BrokenPipeError):
            raise
        except Exception as exc:  # one bad item must not stop the batch: report it, go on
            failed += 1
            msg = describe_error(exc)
            named = isinstance(exc, ImageError) or (isinstance(exc, OSError) and exc.filename)
            error(msg if named else f"{name(item)}: {msg}")
            if debug_enabled():
                traceback.print_exc()
            continue
        if result:
            info(args, f"{name(item)} -> {result} ({time.perf_counter() - t0:.1f} s)")
    return 1 if failed else 0


def check_output(out: Path, batch: bool) -> None:
    """With several inputs, ``-o`` must name a folder (no file suffix)."""
    if batch and out.suffix and not out.is_dir():
        raise UsageError(f"-o {out}: with several inputs, -o must be a folder, not a file name")


def output_path(out: Path, stem: str, suffix: str, batch: bool) -> Path:
    """A file path for one result: ``out`` itself, or ``out/stem+suffix`` for batches/folders."""
    if batch or out.suffix == "" or out.is_dir():
        return out / f"{stem}{suffix}.png"
    return out


# why --precision auto is float32 for Gatys' optimisations (style, texture)
GATYS_FP32 = "Gatys' optimisation in bf16 was slower with a higher loss (an H200 at 512 px)"


def add_precision_arg(p: argparse.ArgumentParser, default: str = "auto", auto: str = "") -> None:
    """``--precision auto|fp32|bf16`` (:mod:`photogen.core.precision`); ``auto``: what auto
    means for this command, when not the comparison on the first input."""
    from photogen.core.precision import PRECISIONS, TOLERANCE

    auto = auto or (
        f"bf16 where the device has native bf16 (AVX512-BF16/AMX, GPUs) and the "
        f"first result is within {TOLERANCE * 255:.0f}/255 of fp32's, else fp32"
    )
    p.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=default,
        help=f"fp32 (the reference), bf16, or auto: {auto}; the choice is printed "
        f"(default {default})",
    )
    p.add_argument(
        "--bf16", dest="precision", action="store_const", const="bf16", help=argparse.SUPPRESS
    )  # the old spelling of --precision bf16


def resolve_precision(args: argparse.Namespace, device, probe=None, engine: str = "torch",
                      fp32_because: str = "") -> str:  # fmt: skip
    """``args.precision`` resolved to fp32 or bf16 (``probe(precision)``: the first input's
    result in [0, 1], for auto), the choice said in one line."""
    from photogen.core.precision import choose

    try:
        chosen = choose(args.precision, device, probe, engine, fp32_because=fp32_because)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    info(args, chosen.line)
    return chosen.precision


def first_photo(args: argparse.Namespace, paths: list[Path]) -> torch.Tensor | None:
    """The first of a batch's photos (for auto precision's probe), or None where it cannot be
    read (the batch reports it with the rest; auto then has nothing to compare on)."""
    from photogen.core.image import read_image

    try:
        return read_image(paths[0], max_pixels=args.max_pixels)
    except (ImageError, OSError, ValueError):
        return None


def first_frame(path: Path) -> torch.Tensor:
    """The first frame of a video ``(1, 3, H, W)`` (for auto precision's probe)."""
    from photogen.core.video import read_frames

    for frame in read_frames(path):
        return frame.image[:, :3]
    raise UsageError(f"{path}: no frames")
