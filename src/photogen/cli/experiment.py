"""``photogen experiment NAME|all -o DIR``: the lecture's claims, re-run."""

from __future__ import annotations

import argparse

from photogen.cli.common import UsageError, add_runtime_args, info, setup_runtime
from photogen.cli.paths import declare_paths
from photogen.experiments.catalogue import EXPERIMENTS

NAMES = tuple(EXPERIMENTS)  # the lecture's order


def add_parser(sub) -> None:
    p = sub.add_parser(
        "experiment",
        help="re-run the lecture's claims: data-size, siblings, colorize-loss, ... or all",
        description="Each experiment writes its figures and results.json into OUTPUT/NAME/ and "
        "a section of OUTPUT/index.html (claim, set-up, what was measured, whether the claim's "
        "direction held here). Defaults run offline on 2 CPU cores in minutes each; --full "
        "runs the larger version. An experiment already done with the same settings is "
        "skipped (--force runs it again), so an interrupted 'all' continues where it stopped.",
    )
    p.add_argument("names", nargs="+", metavar="NAME", help=f"all, or any of: {', '.join(NAMES)}")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--full", action="store_true", help="the larger version (longer)")
    p.add_argument("--force", action="store_true", help="run again what is already done")
    p.add_argument("--db", help="data-size: also a tiny-images database ('photogen match "
                   "build'; labels are its photos' folder names)")  # fmt: skip
    add_runtime_args(p)
    p.set_defaults(func=run)
    declare_paths(p, {"db": "db"}, {"output": "folder"})


def run(args: argparse.Namespace) -> int:
    from photogen.experiments import Settings, run_experiments

    unknown = [n for n in args.names if n not in (*NAMES, "all")]
    if unknown or ("all" in args.names and len(args.names) > 1):
        raise UsageError(
            f"unknown experiment {unknown[0]!r}; choose all or any of: {', '.join(NAMES)}"
            if unknown
            else "'all' runs every experiment alone"
        )
    device = setup_runtime(args)
    settings = Settings(full=args.full, seed=args.seed, device=str(device), db=args.db,
                        log=lambda m: info(args, m))  # fmt: skip
    results = run_experiments(args.names, args.output, settings, force=args.force)
    failed = [n for n, r in results.items() if r.get("holds") is False]
    info(
        args,
        f"{len(results)} experiment(s) -> {args.output}/index.html"
        + (f"; the claim did not hold here for: {', '.join(failed)}" if failed else ""),
    )
    return 0
