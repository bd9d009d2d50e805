"""Tiny images across a Dask cluster, simulated at Torralba's 80 million: queries/s, recall@10
and memory per worker as workers are added.

How it is simulated: no machine here holds 80M tiny images (245 GB of shards), so each part
holds what a part of a real database holds in memory (its IVF-PQ index: 32-byte codes and
8-byte ids per image over 65-long keys, photogen's real per-image index cost) over synthetic
keys: a Gaussian with the variance spectrum of real tiny images' PCA-64 coordinates (measured
from ``--spectrum-db``'s projections when given, else a power law fitted to them), each key a
pure function of its position (a counter-based hash), so the exact re-rank of a shortlist
recomputes the candidates' keys as the real one reads their rows, and the ground truth is a
brute-force pass over every key. The cluster is a ``LocalCluster`` of worker processes on
127.0.0.1 (one machine: workers share its 2 cores, so the queries/s here are a floor; the
memory per worker is what each machine of a real cluster would need).

    python benchmarks/tinyimages_cluster.py [--n 80000000] [--workers 1 2 4] [--queries 1000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import print_peak  # noqa: E402

DIMS = 65


def spectrum(db: str | None) -> np.ndarray:
    """Standard deviations of the 65 key coordinates (PCA-64 + the residual norm)."""
    if db:
        proj = np.load(Path(db) / "proj_colour.npy", mmap_mode="r")
        resid = np.load(Path(db) / "resid_colour.npy", mmap_mode="r")
        pick = slice(0, len(proj), max(1, len(proj) // 200_000))
        return np.concatenate([np.asarray(proj[pick]).std(0), [np.asarray(resid[pick]).std()]])
    # the power law of the 1M benchmark database's PCA-64 (std ~ 0.35 i^-0.55), its residual
    return np.concatenate([0.35 * np.arange(1, 65) ** -0.55, [0.08]]).astype(np.float32)


def keys(positions: np.ndarray, std: np.ndarray, seed: int = 0) -> np.ndarray:
    """The key of each position: 65 Gaussians from a splitmix64 hash of (seed, position, j)."""
    with np.errstate(over="ignore"):
        x = (positions.astype(np.uint64)[:, None] * np.uint64(DIMS * 2)
             + np.arange(DIMS * 2, dtype=np.uint64)[None] + np.uint64(seed << 40))  # fmt: skip
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    u = ((x >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)
    g = np.sqrt(-2 * np.log(u[:, :DIMS])) * np.cos(2 * np.pi * u[:, DIMS:])
    return (g * std).astype(np.float32)


class SimPart:
    """One worker's part ``[lo, hi)``: an IVF-PQ index over its synthetic keys (Dask actor)."""

    def __init__(self, lo: int, hi: int, std: np.ndarray, nprobe: int, threads: int = 1,
                 chunk: int = 1 << 18):  # fmt: skip
        import faiss

        from photogen.tinyimages.search import auto_settings, cells, ivfpq_index

        faiss.omp_set_num_threads(threads)  # the machine's cores shared by its workers
        self.lo, self.hi, self.std = lo, hi, std
        n = hi - lo
        nlist = cells(n)
        self.index = ivfpq_index(DIMS, nlist)
        ivf = faiss.extract_index_ivf(self.index)
        step = max(1, n // (64 * nlist))
        t0 = time.perf_counter()
        self.index.train(keys(np.arange(lo, hi, step), std))
        for s in range(lo, hi, chunk):
            self.index.add(keys(np.arange(s, min(hi, s + chunk)), std))
        # auto's IVF rule whatever the part's size (below 200k auto means flat: nprobe 1)
        ivf.nprobe = nprobe or auto_settings(max(n, 200_000))["nprobe"]
        self.build_s = time.perf_counter() - t0

    def info(self) -> dict:
        from photogen.core.memory import rss_anon

        return {"lo": self.lo, "hi": self.hi, "build_s": self.build_s, "rss_anon": rss_anon()}

    def search(self, q: np.ndarray, k: int, shortlist: int):
        _, ids = self.index.search(q, shortlist)  # local ids
        ids = np.where(ids >= 0, ids + self.lo, self.lo)
        cand = keys(ids.ravel(), self.std).reshape(*ids.shape, DIMS)  # the "rows" re-read
        d = ((cand - q[:, None]) ** 2).sum(-1)
        order = np.argsort(d, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(d, order, 1), np.take_along_axis(ids, order, 1)

    def exact(self, q: np.ndarray, k: int, chunk: int = 1 << 18):
        """Brute force over every key of the part (the ground truth)."""
        import faiss

        best_d = np.full((len(q), k), np.inf, np.float32)
        best_i = np.zeros((len(q), k), np.int64)
        for s in range(self.lo, self.hi, chunk):
            x = keys(np.arange(s, min(self.hi, s + chunk)), self.std)
            d, i = faiss.knn(q, x, k)
            d_all, i_all = np.concatenate([best_d, d], 1), np.concatenate([best_i, i + s], 1)
            o = np.argsort(d_all, axis=1, kind="stable")[:, :k]
            best_d, best_i = np.take_along_axis(d_all, o, 1), np.take_along_axis(i_all, o, 1)
        return best_d, best_i


def main() -> None:
    from dask.distributed import Client, LocalCluster

    from photogen.tinyimages.cluster import merge

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=80_000_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--shortlist", type=int, default=64)
    ap.add_argument("--nprobe", type=int, default=None, help="default: auto for a part's size")
    ap.add_argument("--spectrum-db", help="a database with a PCA (its key spectrum)")
    args = ap.parse_args()
    print_peak()
    std = spectrum(args.spectrum_db)
    q = keys(np.arange(10**12, 10**12 + args.queries), std, seed=1)  # not in the database
    q[:, -1] = 0  # the query's key: [p_q, 0] (search.py)
    truth = None
    for w in args.workers:
        with LocalCluster(n_workers=w, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None, memory_limit=0) as cluster, \
                Client(cluster) as client:  # fmt: skip
            addrs = sorted(client.scheduler_info()["workers"])
            bounds = np.linspace(0, args.n, w + 1).astype(np.int64)
            t0 = time.perf_counter()
            spans = zip(bounds[:-1], bounds[1:], addrs, strict=True)
            threads = max(1, (os.cpu_count() or 1) // w)
            futures = [client.submit(SimPart, int(a), int(b), std, args.nprobe, threads,
                                     actor=True, workers=[addr], pure=False)
                       for a, b, addr in spans]  # fmt: skip
            parts = [f.result() for f in futures]
            t_build = time.perf_counter() - t0
            if truth is None:  # the ground truth, once (the same keys whatever the split)
                t1 = time.perf_counter()
                truth = merge([p.exact(q, 10).result() for p in parts], 10)[1].numpy()
                print(f"ground truth: brute force over {args.n:,} keys in "
                      f"{time.perf_counter() - t1:.0f} s")  # fmt: skip
            for p in parts:  # warm
                p.search(q[:20], 10, args.shortlist).result()
            t1 = time.perf_counter()
            calls = [p.search(q, 10, args.shortlist) for p in parts]
            d, ids = merge([c.result() for c in calls], 10)
            dt = time.perf_counter() - t1
            pairs = zip(ids.numpy().tolist(), truth.tolist(), strict=True)
            recall = np.mean([len(set(a) & set(b)) / 10 for a, b in pairs])
            info = [p.info().result() for p in parts]
            mem = max(i["rss_anon"] for i in info) / (1 << 30)
            print(f"{w} worker(s), {args.n // w:,} images each: built in {t_build:.0f} s; "
                  f"{args.queries / dt:,.0f} queries/s, recall@10 {recall:.3f}; "
                  f"memory per worker {mem:.2f} GiB (RssAnon; index 40 B/image = "
                  f"{40 * args.n / w / (1 << 30):.2f} GiB)", flush=True)  # fmt: skip
            del parts, futures


if __name__ == "__main__":
    main()
