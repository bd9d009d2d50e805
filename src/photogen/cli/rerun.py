"""``photogen rerun RESULT.png``: make an image again from the settings it carries.

Every PNG photogen's CLI writes records its command line, working folder and versions in a
``photogen`` text chunk (as AUTOMATIC1111's ``parameters`` and ComfyUI's ``prompt``). This runs
that command again with the output sent elsewhere and compares the two pictures: on the same
device and thread count the same seed gives the same image, bit for bit.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from photogen.cli.common import UsageError, info
from photogen.cli.paths import declare_paths

_OUTPUT = ("-o", "--output")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "rerun",
        help="make a photogen PNG again from the settings it carries, and compare",
        description="Run the command recorded in RESULT.png's 'photogen' text chunk again, "
        "writing to -o (default RESULT.rerun.png beside it), and say whether the new picture "
        "equals the old one bit for bit (exit 0) or how far it differs (exit 1).",
    )
    p.add_argument("result", type=Path, help="a PNG written by photogen")
    p.add_argument("-o", "--output", type=Path, default=None, help="where the new image goes")
    p.add_argument("-q", "--quiet", action="store_true", help="no status line")
    p.set_defaults(func=run)
    declare_paths(p, {"result": "image"}, {"output": "file-or-folder"})


def replace_output(argv: list[str], new: str) -> tuple[list[str], str]:
    """``argv`` with its ``-o/--output`` value replaced by ``new``; and the old value."""
    out = list(argv)
    for i, a in enumerate(out):
        if a in _OUTPUT and i + 1 < len(out):
            old, out[i + 1] = out[i + 1], new
            return out, old
        for flag in _OUTPUT[1:]:
            if a.startswith(flag + "="):
                old, out[i] = a.split("=", 1)[1], f"{flag}={new}"
                return out, old
    raise UsageError("the recorded command has no -o/--output to redirect")


def run(args: argparse.Namespace) -> int:
    import torch

    from photogen.cli.main import main
    from photogen.core.image import read_image
    from photogen.core.provenance import read_settings

    settings = read_settings(args.result)
    if not settings or "argv" not in settings:
        raise UsageError(f"{args.result}: carries no photogen settings (not written by "
                         "photogen's CLI, or the chunk was stripped)")  # fmt: skip
    result = args.result.resolve()
    argv = list(settings["argv"])
    if argv and argv[0] == "rerun":
        raise UsageError(f"{args.result}: records a rerun, not the command that made it")
    cwd = settings.get("cwd")
    here = os.getcwd()
    target = (args.output or result.with_name(result.stem + ".rerun.png")).resolve()
    try:
        if cwd and Path(cwd).is_dir():
            os.chdir(cwd)
        probe, old = replace_output(argv, str(target))
        single = Path(old).resolve() == result or bool(Path(old).suffix)  # a file, not a folder
        if not single:  # a batch wrote into a folder: rerun into a folder, compare the file
            target = target.with_suffix("") if target.suffix else target
            probe, _ = replace_output(argv, str(target))
        code = main(probe)
    finally:
        os.chdir(here)
    made = target if single else target / result.name
    if code != 0 or not made.is_file():
        info(args, f"the recorded command ended with exit code {code}")
        return 1
    a, b = read_image(result), read_image(made)
    if a.shape == b.shape and torch.equal(a, b):
        info(args, f"reproduced bit for bit -> {made}")
        return 0
    diff = float((a - b).abs().max()) if a.shape == b.shape else float("inf")
    info(args, f"differs from {args.result}: largest pixel difference {diff * 255:.1f} of 255 "
               f"(other device or thread count?) -> {made}")  # fmt: skip
    return 1
