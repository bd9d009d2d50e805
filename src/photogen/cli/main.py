"""The ``photogen`` command: parse, call the library, report in one line, set the exit code."""

from __future__ import annotations

import argparse
import sys

from photogen import __version__
from photogen.cli import (
    colorize,
    demo,
    learn,
    match,
    pix2pix,
    pixelcnn,
    stylize,
    texture,
    weights,
)
from photogen.cli.common import UsageError, error
from photogen.core.image import ImageError
from photogen.core.weights import WeightsError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="photogen",
        description="Generate and transform images with deep learning.",
    )
    p.add_argument("--version", action="version", version=f"photogen {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (texture, stylize, colorize, pix2pix, pixelcnn, match, learn, demo, weights):
        module.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point. Exit codes: 0 ok, 1 some input failed, 2 usage error, 130 interrupted,
    141 output pipe closed (``photogen ... | head``; quiet, as other command-line tools)."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(texture.rewrite_argv(colorize.rewrite_argv(argv)))
    try:
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe is reported here, not at interpreter exit
        return code
    except UsageError as exc:
        parser.error(str(exc))  # exits with 2
    except (ImageError, WeightsError, ValueError, RuntimeError) as exc:
        error(str(exc))
        return 1
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes at exit
        return 141
    return 0


if __name__ == "__main__":
    sys.exit(main())
