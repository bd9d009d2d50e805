"""``photogen weights`` and ``photogen samples``: what is known, cached and on disk."""

from __future__ import annotations

import argparse

from photogen.cli.paths import declare_paths
from photogen.core import weights as W
from photogen.core.samples import available_samples


def add_parser(sub) -> None:
    p = sub.add_parser("weights", help="list, fetch or install named network weights")
    wsub = p.add_subparsers(dest="action", required=True)
    declare_paths(wsub.add_parser("list", help="known weights and whether they are available"))
    f = wsub.add_parser("fetch", help="download NAME into the cache (sha256-checked)")
    f.add_argument("name", choices=sorted(W.REGISTRY))
    declare_paths(f)
    i = wsub.add_parser("install", help="copy a file obtained by hand into the cache")
    i.add_argument("name", choices=sorted(W.REGISTRY))
    i.add_argument("file")
    declare_paths(i, {"file": "file"})
    p.set_defaults(func=run)
    s = sub.add_parser("samples", help="list the offline sample images on this machine")
    s.set_defaults(func=run_samples)
    declare_paths(s)


def run(args: argparse.Namespace) -> int:
    if args.action == "list":
        print(f"cache: {W.photogen_home() / 'weights'}")
        for name, entry in sorted(W.REGISTRY.items()):
            try:
                where = str(W.resolve(name, allow_download=False))
            except W.WeightsError:
                where = f"not cached; `photogen weights fetch {name}` or {entry.hint or entry.url}"
            print(f"{name:28s} {entry.description}\n{'':28s} {where}")
        return 0
    if args.action == "fetch":
        print(W.resolve(args.name))
        return 0
    print(W.copy_into_cache(args.name, args.file))
    return 0


def run_samples(args: argparse.Namespace) -> int:
    for name, path in sorted(available_samples().items()):
        print(f"{name:24s} {path}")
    return 0
