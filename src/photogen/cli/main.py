"""The ``photogen`` command: parse, call the library, report in one line, set the exit code."""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from photogen import __version__
from photogen.cli import (
    colorize,
    demo,
    dream,
    experiment,
    learn,
    match,
    pix2pix,
    pixelcnn,
    rerun,
    studio,
    stylize,
    texture,
    weights,
)
from photogen.cli.common import UsageError, debug_enabled, describe_error, error, set_debug
from photogen.cli.paths import PathError, check_paths


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="photogen",
        description="Generate and transform images with deep learning.",
    )
    p.add_argument("--version", action="version", version=f"photogen {__version__}")
    p.add_argument(
        "--debug",
        action="store_true",
        help="print the Python traceback with an error (also: PHOTOGEN_DEBUG=1); may be "
        "given anywhere on the line",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (texture, stylize, dream, colorize, pix2pix, pixelcnn, match, learn, demo,
                   studio, weights, experiment, rerun):  # fmt: skip
        module.add_parser(sub)
    texture.add_compare_parser(sub)
    stylize.add_train_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point. Exit codes: 0 ok, 1 some input failed or the work failed, 2 usage error
    (bad options, or no usable input or output path), 130 interrupted, 141 output pipe closed
    (``photogen ... | head``; quiet, as other command-line tools).

    Every error, whatever the command, reaches the user as one ``photogen: error: ...`` line
    (file errors as ``PATH: reason``); ``--debug`` or ``PHOTOGEN_DEBUG=1`` adds the traceback.
    """
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    set_debug("--debug" in argv)
    argv = [a for a in argv if a != "--debug"]
    args = parser.parse_args(
        stylize.rewrite_argv(texture.rewrite_argv(colorize.rewrite_argv(argv)))
    )
    import torch

    from photogen.core.provenance import set_provenance

    set_provenance({"argv": argv, "cwd": os.getcwd(), "photogen": __version__,
                    "torch": torch.__version__})  # fmt: skip
    try:
        dropped = check_paths(args)
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe is reported here, not at interpreter exit
        return max(code, 1) if dropped else code
    except PathError as exc:  # one line, no usage text: the command line itself was fine
        _traceback()
        error(str(exc))
        return 2
    except UsageError as exc:
        _traceback()
        parser.error(str(exc))  # exits with 2
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes at exit
        return 141
    except Exception as exc:  # noqa: BLE001 - the one place that turns errors into a line
        _traceback()
        error(describe_error(exc))
        return 1
    finally:
        set_provenance(None)
    return 0


def _traceback() -> None:
    if debug_enabled():
        traceback.print_exc()


if __name__ == "__main__":
    sys.exit(main())
