"""``photogen studio``: serve the local web page and print its address."""

from __future__ import annotations

import argparse
import sys

from photogen.cli.common import (
    UsageError,
    add_precision_arg,
    info,
    resolve_precision,
    setup_runtime,
)
from photogen.cli.paths import declare_paths


def add_parser(sub) -> None:
    p = sub.add_parser(
        "studio",
        help="a local web page to play with the methods (sketch to image, ...)",
        description="Serve photogen studio on http://HOST:PORT/ (127.0.0.1 by default: only "
        "this computer can open it). Another --host needs --auth USER:PASS, and prints a "
        "warning; there is no public share link. Stop with Ctrl+C.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7860, help="port (0: any free port)")
    p.add_argument("--models", nargs="+", default=[], metavar="DIR",
                   help="pix2pix run folders, or folders of runs, to offer besides the bundled "
                   "model")  # fmt: skip
    p.add_argument("--db", help="a tiny-images database (photogen match build) for matching")
    p.add_argument("--db-scheduler", metavar="ADDRESS",
                   help="search --db across a Dask cluster: a scheduler address "
                   "(tcp://host:8786) or 'local'; one part of the database per worker, answers "
                   "merged exactly, a part that does not answer shown as such")  # fmt: skip
    p.add_argument("--pixelcnn", nargs="+", default=[], metavar="RUN",
                   help="PixelCNN run folders (pixelcnn train) for the completion tab")  # fmt: skip
    p.add_argument("--style-models", nargs="+", default=[], metavar="RUN",
                   help="fast style networks (photogen stylize train runs, or folders of them) "
                   "for the Style tab's fast mode")  # fmt: skip
    p.add_argument("--colorizers", nargs="+", default=[], metavar="RUN",
                   help="colorizer runs or weight files (colorize train) besides lite")  # fmt: skip
    p.add_argument("--auth", metavar="USER:PASS",
                   help="HTTP Basic authentication for every page and socket (visible in the "
                   "process list: prefer PHOTOGEN_STUDIO_AUTH=USER:PASS or "
                   "--auth-file)")  # fmt: skip
    p.add_argument("--auth-file", metavar="FILE",
                   help="a file holding USER:PASS on its first line")  # fmt: skip
    p.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                   help="a Host name the studio answers to when bound beyond loopback (the "
                   "name users type, e.g. studio.lan); repeatable")  # fmt: skip
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps or cuda:N")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for the networks")
    p.add_argument("--workers", type=int, default=2, metavar="N",
                   help="threads answering interactive work (drawings, camera frames, colour "
                   "clicks) of several visitors at once (default 2); jobs run one at a time "
                   "and pause while interactive work waits")  # fmt: skip
    p.add_argument(
        "--engine",
        choices=["torch", "onnxruntime", "openvino"],
        default=None,
        help="the Live tab's inference engine (default: onnxruntime when installed)",
    )
    add_precision_arg(
        p,
        default="fp32",
        auto="bf16 where the device has native bf16 and the "
        "bundled facades generator's answer to its example drawing is within "
        "2/255 of fp32's, else fp32; for every network of the studio",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no request log")
    p.set_defaults(func=run)
    declare_paths(p, {"models": "runs", "db": "db", "pixelcnn": "model", "colorizers": "model",
                      "style_models": "model", "auth_file": "file"})  # fmt: skip


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now (for --port 0)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def studio_auth(args: argparse.Namespace) -> str | None:
    """USER:PASS from --auth, --auth-file or $PHOTOGEN_STUDIO_AUTH (in that order), checked:
    neither part may be empty."""
    import os
    from pathlib import Path

    from photogen.studio.guard import check_auth

    value = args.auth
    if value is None and args.auth_file:
        lines = Path(args.auth_file).read_text().splitlines()
        value = lines[0].strip() if lines else ""
    if value is None:
        value = os.environ.get("PHOTOGEN_STUDIO_AUTH") or None
    if value is None:
        return None
    try:
        return check_auth(value)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _studio_probe(device):
    """auto's comparison for the studio: the bundled facades generator on its example
    drawing (what the page answers most often)."""

    def probe(precision: str):
        from photogen.studio.sketch import SketchEngine, example_drawing, find_models

        engine = SketchEngine(find_models([]), device, precision)
        model = next(iter(engine.models.values()))
        return engine.translate(model.name, example_drawing(model))

    return probe


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from photogen.studio.guard import is_loopback
    from photogen.studio.server import StudioConfig, create_app

    if not 1 <= args.workers <= 64:
        raise UsageError(f"--workers must be 1..64, got {args.workers}")
    auth = studio_auth(args)
    if not is_loopback(args.host):
        if not auth:
            raise UsageError(f"--host {args.host} opens the studio to other computers: add "
                             "--auth USER:PASS (or keep the default 127.0.0.1)")  # fmt: skip
        info(args, f"warning: serving on {args.host}: anyone who can reach this machine and "
                   "knows the password can use it (and its CPU)")  # fmt: skip
    device = setup_runtime(args)
    precision = resolve_precision(args, device, _studio_probe(device))
    app = create_app(StudioConfig(host=args.host, models=args.models, device=str(device),
                                  precision=precision,
                                  auth=auth, allowed_hosts=args.allowed_host,
                                  db=args.db, db_scheduler=args.db_scheduler,
                                  pixelcnn=args.pixelcnn,
                                  colorizers=args.colorizers, engine=args.engine,
                                  style_models=args.style_models,
                                  workers=args.workers))  # fmt: skip
    port = args.port or free_port(args.host)
    server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=port,
                                           log_level="warning" if args.quiet else "info",
                                           ws_max_size=8 * 2**20))  # fmt: skip
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"photogen studio: http://{shown}:{port}/  (Ctrl+C to stop)", file=sys.stderr)
    server.run()
    return 0
