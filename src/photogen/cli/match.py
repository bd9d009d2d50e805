"""``photogen match``: data-driven matching over a tiny-images database (Torralba et al. 2008).

``build DIR... --db DB`` · ``add DIR... --db DB`` · ``info --db DB`` ·
``query IMAGE --db DB -k 16`` · ``label IMAGE|DIR --db DB`` · ``colorize GREY --db DB``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from tqdm import tqdm

from photogen.cli.common import UsageError, add_runtime_args, error, info, setup_runtime
from photogen.cli.paths import declare_paths
from photogen.core.image import ImageError, list_images, read_image, save_image


def add_parser(sub) -> None:
    p = sub.add_parser(
        "match",
        help="data-driven matching: tiny-images database, neighbours, labels, sibling colour",
        description="80 million tiny images (Torralba et al. 2008): 32x32 images, D_ssd, a PCA "
        "shortlist re-ranked exactly.",
    )
    cmds = p.add_subparsers(dest="match_command", required=True, metavar="COMMAND")
    for name, text in (("build", "create or extend a database from folders"),
                       ("add", "append folders to an existing database")):  # fmt: skip
        b = cmds.add_parser(name, help=text, description=f"{text}: recursive walk, parallel "
                            "decode, duplicates (content hash) and unreadable files skipped, "
                            "resumable (rerun the same command after an interruption); then the "
                            "PCA shortlist is refitted.")  # fmt: skip
        b.add_argument("inputs", nargs="+", help="folders or files")
        b.add_argument("--db", required=True, type=Path)
        b.add_argument("--labels", help="CSV of path,label (default: parent folder names)")
        b.add_argument("--pca", type=int, default=64, help="shortlist dimensions (paper: 19)")
        b.add_argument("--workers", type=int, default=4, help="decoding threads / Dask tasks")
        b.add_argument(
            "--scheduler",
            default="threads",
            help="where decoding runs: 'threads' (this process), 'local' (a Dask LocalCluster "
            "of --workers processes) or a Dask scheduler address (tcp://host:8786)",
        )
        b.add_argument("--chunk", type=int, default=4096, help="images per shard")
        add_runtime_args(b)
        b.set_defaults(func=run_build, create=name == "build")
        if name == "build":
            declare_paths(b, {"inputs": "photos", "labels": "file"}, {"db": "folder"})
        else:
            declare_paths(b, {"inputs": "photos", "db": "db", "labels": "file"})
    i = cmds.add_parser("info", help="summarise a database")
    i.add_argument("--db", required=True, type=Path)
    i.set_defaults(func=run_info)
    declare_paths(i, {"db": "db"})
    q = cmds.add_parser("query", help="a montage of the nearest tiny images")
    q.add_argument("image")
    _search_args(q)
    q.add_argument("--warp", action="store_true", help="D_warp: best over flips and shifts")
    q.add_argument("-o", "--output", type=Path, default=Path("neighbours.png"))
    add_runtime_args(q)
    q.set_defaults(func=run_query)
    declare_paths(q, {"image": "image", "db": "db"}, {"output": "file"})
    lab = cmds.add_parser("label", help="label images by neighbour voting")
    lab.add_argument("inputs", nargs="+")
    _search_args(lab)
    lab.add_argument("--weighting", choices=["uniform", "distance"], default="uniform")
    lab.add_argument("--hierarchy", help="CSV of child,parent labels: votes go up the tree")
    lab.add_argument("--min-share", type=float, default=0.5, help="with --hierarchy")
    add_runtime_args(lab)
    lab.set_defaults(func=run_label)
    declare_paths(lab, {"inputs": "photos", "db": "db", "hierarchy": "file"})
    c = cmds.add_parser("colorize", help="colour a grey photo from its siblings")
    c.add_argument("image")
    _search_args(c)
    c.add_argument("--best", action="store_true", help="the best single sibling's colour")
    c.add_argument("-o", "--output", type=Path, required=True)
    add_runtime_args(c)
    c.set_defaults(func=run_colorize)
    declare_paths(c, {"image": "image", "db": "db"}, {"output": "file"})


def _search_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", required=True, type=Path)
    p.add_argument("-k", type=int, default=16, help="neighbours")
    p.add_argument("--shortlist", type=int, default=None,
                   help="PCA candidates re-ranked exactly (default: chosen by the database's "
                   "size, 32-128)")  # fmt: skip
    p.add_argument("--index", choices=["auto", "flat", "hnsw", "ivf", "ivfpq"], default="auto",
                   help="shortlist search: exact (flat) or approximate, for large databases; "
                   "auto = flat below 200,000 images, ivf above, ivfpq (compressed, 40 bytes "
                   "per image instead of 268) from 5M images; hnsw/ivf/ivfpq "
                   "indexes are built once and saved in the database folder")  # fmt: skip
    p.add_argument("--nprobe", type=int, default=None,
                   help="ivf/ivfpq: cells visited per query (default: 32 x (images / 1M)^0.3, "
                   "at least 32: 64 at 10M)")  # fmt: skip
    p.add_argument("--preload", action="store_true",
                   help="read all images into RAM first (3 KB each): for many queries")  # fmt: skip
    p.add_argument("--scheduler", default="threads",
                   help="'threads' (search here), 'local' (a Dask LocalCluster of --workers "
                   "processes) or a Dask scheduler address (tcp://host:8786): the database cut "
                   "into one part per worker, each holding its part's index, the answers "
                   "merged exactly; the workers must see --db at the same path")  # fmt: skip
    p.add_argument("--workers", type=int, default=2, help="with --scheduler local")
    p.add_argument("--allow-partial", action="store_true",
                   help="with --scheduler: if a worker dies, answer from the others (said on "
                   "stderr, exit code 1) instead of failing")  # fmt: skip


class _Cluster:
    """A sharded search behind the Searcher's ``search`` call (for the commands)."""

    def __init__(self, args: argparse.Namespace, colour: bool):
        from photogen.tinyimages.cluster import ShardedSearch

        if args.preload:
            raise UsageError("--preload is for a search in this process, not --scheduler")
        self.args, self.partial = args, False
        self.client = _dask_client(args.scheduler, args.workers)
        self.sharded = ShardedSearch(self.client, args.db, colour=colour, index=args.index,
                                     nprobe=args.nprobe)  # fmt: skip

    def search(self, tinies: torch.Tensor, k: int, shortlist: int | None):
        from photogen.tinyimages.cluster import PartFailedError

        try:
            found = self.sharded.search(tinies, k, shortlist, self.args.allow_partial)
        except PartFailedError as exc:
            raise UsageError(str(exc)) from None
        if found.partial:
            self.partial = True
            error("partial answer: no reply from the images "
                  + ", ".join(f"{a:,}-{b - 1:,}" for a, b in found.missing))  # fmt: skip
        return found.distances, found.positions

    def close(self) -> None:
        self.client.close()


def _open_searcher(args: argparse.Namespace, db, colour: bool = True):
    from photogen.tinyimages.search import Searcher

    if args.scheduler == "threads":
        return Searcher(db, colour=colour, index=args.index, nprobe=args.nprobe,
                        preload=args.preload)  # fmt: skip
    return _Cluster(args, colour)


def _close(searcher) -> int:
    """Exit code 1 after a partial answer; the cluster's client closed."""
    if isinstance(searcher, _Cluster):
        searcher.close()
        return 1 if searcher.partial else 0
    return 0


def run_build(args: argparse.Namespace) -> int:
    from photogen.tinyimages.database import TinyDB, build, read_labels
    from photogen.tinyimages.search import fit_pca

    setup_runtime(args)
    db = TinyDB(args.db, create=args.create)
    labels = read_labels(args.labels) if args.labels else None
    bar = tqdm(desc=f"match {'build' if args.create else 'add'}", unit="img", disable=args.quiet)
    failures = []

    def on_error(msg: str) -> None:
        failures.append(msg)
        error(msg)

    client = _dask_client(args.scheduler, args.workers)
    try:
        counts = build(db, args.inputs, labels, args.chunk, args.workers, on_error, bar.update,
                       client=client)  # fmt: skip
    finally:
        bar.close()
        if client is not None:
            client.close()
    if len(db) >= 2:
        for colour in (True, False):
            fit_pca(db, args.pca, colour)
    info(args, json.dumps(counts))
    return 1 if failures else 0


def _dask_client(scheduler: str, workers: int):
    from photogen.tinyimages.cluster import connect

    try:
        return connect(scheduler, workers)
    except ImportError as exc:
        raise UsageError(f"--scheduler {exc}") from None


def run_info(args: argparse.Namespace) -> int:
    from photogen.tinyimages.database import TinyDB

    db = TinyDB(args.db)
    labels = db.counts("label")
    size = sum(p.stat().st_size for p in (args.db / "shards").glob("*.npy"))
    print(json.dumps({"images": len(db), "shards": len(db.shards()), "labels": len(labels),
                      "top_labels": labels[:10], "shard_bytes": size,
                      "bytes_per_image": round(size / max(1, len(db)), 1)}, indent=2))  # fmt: skip
    return 0


def _tiny_of(path: str, max_pixels: int) -> tuple[torch.Tensor, torch.Tensor]:
    from photogen.tinyimages.tiny import tiny_image

    image = read_image(path, max_pixels=max_pixels)
    return image, tiny_image(image)


def run_query(args: argparse.Namespace) -> int:
    from photogen.tinyimages.database import TinyDB
    from photogen.tinyimages.tiny import d_warp, enlarge, normalise

    setup_runtime(args)
    if args.warp and args.scheduler != "threads":
        raise UsageError("--warp re-ranks here: not with --scheduler")
    db = TinyDB(args.db)
    _, tiny = _tiny_of(args.image, args.max_pixels)
    searcher = _open_searcher(args, db)
    dist, ids = searcher.search(tiny[None], args.k, args.shortlist)
    code = _close(searcher)
    dist, ids = dist[0], ids[0]
    if args.warp:  # re-rank the candidates with D_warp
        cand = torch.from_numpy(searcher.shortlist(normalise(tiny[None]), args.shortlist)[0])
        d = d_warp(tiny, normalise(db.tiny(cand.numpy())))
        order = d.argsort()[: args.k]
        dist, ids = d[order], cand[order]
    tiles = torch.cat([tiny[None], db.tiny(ids.numpy())])
    from photogen.pixelcnn.train import sample_grid

    save_image(sample_grid(enlarge(tiles), cols=min(9, len(tiles)), pad=4), args.output)
    paths, labels = db.values("path", ids.numpy()), db.values("label", ids.numpy())
    for rank, (d, p, lab) in enumerate(zip(dist.tolist(), paths, labels, strict=True), 1):
        print(f"{rank:3d}  D={d:.4f}  {lab:<16} {p}")
    info(args, f"query + {len(ids)} neighbours -> {args.output}")
    return code


def run_label(args: argparse.Namespace) -> int:
    from photogen.tinyimages.database import TinyDB
    from photogen.tinyimages.vote import read_hierarchy, vote

    setup_runtime(args)
    db = TinyDB(args.db)
    searcher = _open_searcher(args, db)
    parents = read_hierarchy(args.hierarchy) if args.hierarchy else None
    failed = 0
    for path in list_images(args.inputs, recursive=True):
        try:
            _, tiny = _tiny_of(path, args.max_pixels)
        except ImageError as exc:
            failed += 1
            error(str(exc))
            continue
        dist, ids = searcher.search(tiny[None], args.k, args.shortlist)
        best, share, _ = vote(db.values("label", ids[0].numpy()), dist[0], args.weighting,
                              parents=parents, min_share=args.min_share)  # fmt: skip
        print(f"{path}\t{best}\t{share:.2f}")
    return 1 if _close(searcher) or failed else 0


def run_colorize(args: argparse.Namespace) -> int:
    from photogen.tinyimages.database import TinyDB
    from photogen.tinyimages.vote import grey_query, sibling_colorize

    setup_runtime(args)
    db = TinyDB(args.db)
    image = read_image(args.image, max_pixels=args.max_pixels)
    grey_img, grey_tiny = grey_query(image)
    if args.k < 1:
        raise UsageError("-k must be >= 1")
    searcher = _open_searcher(args, db, colour=False)
    _, ids = searcher.search(grey_tiny[None], args.k, args.shortlist)
    code = _close(searcher)
    rgb, _ = sibling_colorize(grey_img, db.tiny(ids[0].numpy()), args.best)
    save_image(rgb, args.output)
    info(args, f"colour from {1 if args.best else args.k} grey siblings -> {args.output}")
    return code
