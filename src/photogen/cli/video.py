"""Video files through the per-image commands (colorize, stylize, pix2pix apply).

A command whose single input is a video file (by extension) writes a video: the same frame
rate, timestamps and audio, chunks finished as it goes (``--resume`` continues a killed run).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from photogen.cli.common import UsageError, info
from photogen.core.engines import ENGINES
from photogen.core.video import VIDEO_SUFFIXES, is_video


def add_video_args(p: argparse.ArgumentParser, temporal_help: str, engines: bool = False) -> None:
    g = p.add_argument_group("video (when the input is a video file)")
    g.add_argument("--start", type=float, default=None, help="first second to process")
    g.add_argument("--end", type=float, default=None, help="stop before this second")
    g.add_argument(
        "--no-temporal", action="store_true", help=f"plain per-frame work ({temporal_help})"
    )
    g.add_argument("--chunk", type=int, default=32, help="frames per finished chunk")
    g.add_argument("--resume", action="store_true", help="continue an interrupted video run")
    if engines:
        g.add_argument(
            "--engine",
            choices=ENGINES,
            default="torch",
            help="inference engine for the network (measured in benchmarks/video.py)",
        )


def video_input(args: argparse.Namespace, inputs: list[str]) -> Path | None:
    """The video file to process, when the command was given one; None for images."""
    videos = [i for i in inputs if is_video(i)]
    if not videos:
        return None
    if len(inputs) > 1:
        raise UsageError("give one video file at a time (or images only)")
    if not is_video(args.output):
        raise UsageError(
            f"{args.output}: the output of a video must be a video file "
            f"({', '.join(VIDEO_SUFFIXES)})"
        )
    if args.start is not None and args.end is not None and args.end <= args.start:
        raise UsageError("--end must be after --start")
    return Path(videos[0])


def run_video(args: argparse.Namespace, src: Path, processor, settings: dict, what: str) -> int:
    """Process ``src`` into ``args.output`` with a progress bar; 1 if frames were damaged."""
    from photogen.core.video import probe
    from photogen.core.videojob import process_video

    probe(src)  # an unreadable file: one line, before any progress bar
    bar = tqdm(desc=what, unit="frame", disable=args.quiet, dynamic_ncols=True)

    def progress(done: int, total: int) -> None:
        if total and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    def on_error(message: str) -> None:
        tqdm.write(f"photogen: error: {message}", file=sys.stderr)

    report = process_video(
        src, args.output, processor, start=args.start, end=args.end, chunk=args.chunk,
        resume=args.resume, settings=settings, progress=progress, on_error=on_error,
    )  # fmt: skip
    bar.close()
    rate = report.processed / report.seconds if report.seconds else 0.0
    resumed = f", {report.resumed_from} done before" if report.resumed_from else ""
    info(args, f"{report.frames} frames ({rate:.2f} frames/s{resumed}) -> {args.output}")
    return 1 if report.errors else 0
