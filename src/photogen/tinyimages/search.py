"""Nearest tiny images: a PCA shortlist, re-ranked exactly (Torralba et al. 2008, Sec. 3).

The normalised vectors are projected on their first ``dims`` principal components (19 in the
paper, 64 by default); FAISS (``faiss-cpu``: flat; HNSW or IVF for large databases) finds the
``shortlist`` nearest projections, and those candidates are re-ranked with the exact ``D_ssd``
on the full vectors read from the memory-mapped uint8 shards. Files in ``DB/``:
``pca_{colour,grey}.npz`` (mean, components), ``proj_{colour,grey}.npy`` (N x dims float32),
``resid_{colour,grey}.npy`` (N float32: the norm of what the PCA leaves out of each vector),
``norms_{colour,grey}.npy`` (N float32: each vector's norm after removing its mean) and the
FAISS index once built (``index_{kind}_{type}.faiss``, rebuilt when the database grows).
Without FAISS the shortlist is an exact brute-force search over the projections (torch).

The shortlist ranks by an estimate of the full distance, not by the distance between
projections. With ``x = mean + U p_x + r_x`` (``r_x`` orthogonal to the components),
``||q - x||^2 = ||p_q - p_x||^2 + ||r_q - r_x||^2``; the residuals live in the thousands of
dimensions the PCA drops and are close to orthogonal, so ``||r_q - r_x||^2 ~ ||r_q||^2 +
||r_x||^2``. The first term of that is the same for every candidate, so each vector is indexed
as ``[p_x, ||r_x||]`` and the query as ``[p_q, 0]``: one more coordinate, still an L2 search
(flat, HNSW or IVF alike). Ranking by the projections alone prefers vectors that the PCA
describes badly; on the 1M-image benchmark's database (500 held-out queries, an exact
32-candidate shortlist from 64 components) this coordinate lifts recall@10 from 0.68 to 0.97.

Re-ranking needs no normalisation of the candidates: the query q is normalised (zero mean,
unit norm), so for a raw candidate x with mean m and centred norm n,
``q . (x - m) / n = (q . x) / n`` and ``D_ssd = 2 - 2 (q . x) / n``: one dot product with the
uint8 vector per candidate.
"""

from __future__ import annotations

import contextlib

import numpy as np
import scipy.linalg
import torch

from photogen.core.atomic import atomic_path
from photogen.tinyimages.database import TinyDB
from photogen.tinyimages.tiny import d_ssd, grey, normalise


def _kind(colour: bool) -> str:
    return "colour" if colour else "grey"


def fit_pca(db: TinyDB, dims: int = 64, colour: bool = True, sample: int = 200_000, seed: int = 0):
    """PCA of (a sample of) the normalised vectors, then every image's projection, saved."""
    n = len(db)
    if n < 2:
        raise ValueError("need at least 2 images for a PCA")
    if n <= 4 * sample:
        gen = torch.Generator().manual_seed(seed)
        pick = torch.randperm(n, generator=gen)[: min(n, sample)].sort().values.numpy()
    else:  # no permutation of the whole database (8 bytes per image): Floyd's sampling
        pick = np.sort(np.random.default_rng(seed).choice(n, sample, replace=False))
    # the covariance of the sample, accumulated block by block (16,384 vectors, 200 MB, at a
    # time): memory set by the block and the 3,072^2 matrix, not by the sample or the database
    rows_at_once, total = 16_384, 0.0
    for x in _sample_blocks(db, pick, colour, rows_at_once):
        total = total + x.double().sum(0)
    mean = (total / len(pick)).float()
    cov = torch.zeros(len(mean), len(mean), dtype=torch.float64)
    for x in _sample_blocks(db, pick, colour, rows_at_once):
        x -= mean
        cov += (x.T @ x).double()  # float32 product per block: unit vectors
    cov = cov.numpy() / max(1, len(pick) - 1)
    d = len(cov)
    k = min(dims, d)
    # only the top k eigenvectors (LAPACK's evr): 10x faster than a full eigh at D = 3,072
    _, vecs = scipy.linalg.eigh(cov, subset_by_index=[d - k, d - 1], driver="evr")
    comps = torch.from_numpy(np.ascontiguousarray(vecs[:, ::-1].T)).float()  # largest first
    kind = _kind(colour)
    with atomic_path(db.root / f"pca_{kind}.npz") as tmp, open(tmp, "wb") as f:
        np.savez(f, mean=mean.numpy(), components=comps.numpy())
    # the outputs are written to memory-mapped files as the shards stream by
    outputs = {name: np.lib.format.open_memmap(db.root / f"{name}_{kind}.npy.tmp", mode="w+",
                                               dtype=np.float32, shape=shape)
               for name, shape in (("proj", (n, len(comps))), ("norms", (n,)),
                                   ("resid", (n,)))}  # fmt: skip
    proj, norms, resid = outputs["proj"], outputs["norms"], outputs["resid"]
    for offset, shard in db.iter_shards():
        for s in range(0, len(shard), rows_at_once):
            raw = torch.from_numpy(np.array(shard[s : s + rows_at_once]))
            block = normalise(raw, colour) - mean
            p = block @ comps.T
            rows = slice(offset + s, offset + s + len(block))
            proj[rows] = p.numpy()
            resid[rows] = (block.square().sum(1) - p.square().sum(1)).clamp_min(0).sqrt().numpy()
            norms[rows] = centred_norms(raw, colour).numpy()
    del proj, norms, resid
    for name in ("norms", "resid", "proj"):  # proj last: its presence means a finished fit
        outputs.pop(name).flush()
        (db.root / f"{name}_{kind}.npy.tmp").replace(db.root / f"{name}_{kind}.npy")
    for stale in db.root.glob(f"index_{kind}_*.faiss"):
        stale.unlink()


def _sample_blocks(db: TinyDB, pick: np.ndarray, colour: bool, block: int):
    """Normalised vectors of the sampled positions, ``block`` at a time (float32)."""
    for s in range(0, len(pick), block):
        yield normalise(db.tiny(pick[s : s + block]), colour)


def centred_norms(tiny: torch.Tensor, colour: bool = True) -> torch.Tensor:
    """``||x - mean(x)||`` of each raw vector (the divisor :func:`normalise` uses)."""
    x = (tiny.float() if colour else grey(tiny)).flatten(1)
    return (x - x.mean(dim=1, keepdim=True)).norm(dim=1)


# from this size ``auto`` stores compressed codes (IVF-PQ): measured on 10M images it answered
# faster than IVF at the same recall (1,842 queries/s at recall@10 0.919 vs IVF's 0.909) in
# 40 bytes per image instead of 268, so the index of 80M fits in 3.2 GB
IVFPQ_FROM = 5_000_000
PQ_BYTES = 32  # bytes of code per image for ivfpq (PCA-rotated 64 dims in 32 two-dim parts)


def pq_shape(dims: int) -> tuple[int, int]:
    """IVF-PQ over ``dims``-long keys: the rotated dimensions kept (even) and the bytes of code
    (one byte per sub-vector of two or more dimensions, at most :data:`PQ_BYTES`)."""
    even = dims - dims % 2
    return even, min(PQ_BYTES, even // 2)


def cells(n: int) -> int:
    """IVF cells for ``n`` keys: 4 sqrt(n), at most 65,536."""
    return int(min(65536, max(1, 4 * np.sqrt(n))))


def ivfpq_index(dims: int, nlist: int):
    """An untrained FAISS IVF-PQ index over ``dims``-long keys: the keys rotated onto their
    principal axes (an even number of them, 64 of 65: the sub-vectors must split evenly), then
    :func:`pq_shape`'s codes. OPQ's learned rotation took 6x as long to train for the same
    recall after the exact re-rank (300k images: 214 s vs ~30 s); polysemous training (Hamming
    filtering, unused here), on by default in FAISS's factory, was most of the rest."""
    import faiss

    even, m = pq_shape(dims)
    index = faiss.index_factory(dims, f"PCAR{even},IVF{nlist},PQ{m}")
    faiss.downcast_index(faiss.extract_index_ivf(index)).do_polysemous_training = False
    return index


def index_bytes(kind: str, dims: int) -> int:
    """Memory per image of each index kind over ``dims``-long keys (its list entry: the code
    and an 8-byte id; HNSW: the vector and 32 links each way at the bottom level)."""
    return {"flat": 4 * dims, "ivf": 4 * dims + 8, "ivfpq": pq_shape(dims)[1] + 8,
            "hnsw": 4 * dims + 2 * 32 * 4}[kind]  # fmt: skip


def auto_settings(n: int, dims: int = 65) -> dict:
    """The index, cells visited and shortlist chosen for a database of ``n`` images.

    Below 200,000: exact (flat). Above: IVF over ``4 sqrt(n)`` cells with ``nprobe`` growing as
    ``n^0.3`` (32 at 1M, 49 at 4M, 64 at 10M, 119 at 80M): with a fixed nprobe the share of
    the database searched falls as it grows, and so did recall@10 (1M: 0.955, 4M: 0.898 at
    nprobe 32); at 10M, 64, 101 and 128 cells gave the same recall (0.909 with 64
    candidates), so the share may shrink slowly. IVF-PQ from :data:`IVFPQ_FROM` images. The
    shortlist: 32 candidates up to 2M images, 64 above (10M: recall@10 0.872 with 32, 0.909-0.920
    with 64).
    """
    if n < 200_000:
        return {"index": "flat", "nprobe": 1, "shortlist": 32 if n > 50_000 else 64}
    nprobe = int(min(512, max(32, round(32 * (n / 1e6) ** 0.3))))
    return {"index": "ivfpq" if n >= IVFPQ_FROM else "ivf", "nprobe": nprobe,
            "shortlist": 32 if n <= 2_000_000 else 64}  # fmt: skip


class Searcher:
    """Shortlist + exact re-rank over a database (build the PCA first: :func:`fit_pca`)."""

    def __init__(
        self,
        db: TinyDB,
        colour: bool = True,
        index: str = "auto",
        use_faiss: bool | None = None,
        shards: int = 1,
        nprobe: int | None = None,
        preload: bool = False,
        rows: slice | None = None,
        add_chunk: int = 1 << 20,
    ):
        """``index``: ``flat`` (exact on the projections), ``hnsw`` (graph), ``ivf`` (inverted
        lists over k-means cells, ``nprobe`` of them visited per query) or ``ivfpq`` (the same
        lists holding 32-byte product-quantised codes of the PCA-rotated keys instead of the
        keys: 40 bytes per image instead of 268), the last three for millions; ``auto``: see
        :func:`auto_settings`, which also gives ``nprobe`` when it is None and the default
        shortlist (:attr:`shortlist_size`). ``shards`` > 1 splits the projections into that many
        FAISS indexes searched together (``IndexShards``). ``rows``: index only that range of
        the database (one machine's part of a cluster; the results' positions stay global).
        The index is trained on a sample (about 64 keys per cell) and filled ``add_chunk``
        keys at a time, so building it holds the index and one chunk.
        ``preload`` reads the shards into RAM (see :meth:`TinyDB.preload`)."""
        if index not in ("auto", "flat", "hnsw", "ivf", "ivfpq"):
            raise ValueError(f"index must be auto, flat, hnsw, ivf or ivfpq, got {index!r}")
        self.db, self.colour = db, colour
        if preload:
            db.preload()
        kind = _kind(colour)
        try:
            pca = np.load(db.root / f"pca_{kind}.npz")
            self.proj = np.load(db.root / f"proj_{kind}.npy", mmap_mode="r")
        except FileNotFoundError:
            raise ValueError(
                f"{db.root}: no {kind} PCA yet (run 'match build' or fit_pca)"
            ) from None
        if len(self.proj) != len(db):
            raise ValueError(f"{db.root}: the PCA is out of date ({len(self.proj)} vs {len(db)})")
        self.rows = range(len(db))[rows] if rows is not None else range(len(db))
        if self.rows.step != 1:
            raise ValueError("rows must be a contiguous range")
        auto = auto_settings(len(self.rows))
        index = auto["index"] if index == "auto" else index
        self.kind = index
        self.nprobe = auto["nprobe"] if nprobe is None else nprobe
        self.shortlist_size = auto["shortlist"] if index == auto["index"] else 64
        self.add_chunk = add_chunk
        self.mean = torch.from_numpy(pca["mean"])
        self.components = torch.from_numpy(pca["components"])
        norms, resid = db.root / f"norms_{kind}.npy", db.root / f"resid_{kind}.npy"
        # memory-mapped: 4 bytes per image each, read for the rows used
        self.norms = np.load(norms, mmap_mode="r") if norms.exists() else None
        # databases from before the residual coordinate: projections alone
        self.resid = np.load(resid, mmap_mode="r") if resid.exists() else None
        self.index, self._all_keys = None, None
        if use_faiss is None:
            try:
                import faiss  # noqa: F401

                use_faiss = True
            except ImportError:
                use_faiss = False
        if use_faiss:
            self.index = self._faiss(index, shards)

    def _faiss(self, kind: str, shards: int = 1):
        import faiss

        d = self.proj.shape[1] + (self.resid is not None)

        def make(lo: int, hi: int):
            if kind == "hnsw":
                index = faiss.IndexHNSWFlat(d, 32)
            elif kind in ("ivf", "ivfpq"):
                nlist = cells(hi - lo)
                if kind == "ivf":
                    index = faiss.IndexIVFFlat(faiss.IndexFlatL2(d), d, nlist)
                else:
                    index = ivfpq_index(d, nlist)
                step = max(1, (hi - lo) // (64 * nlist))  # k-means on ~64 points per cell
                index.train(self._keys(slice(lo, hi, step)))
            else:
                index = faiss.IndexFlatL2(d)
            for s in range(lo, hi, self.add_chunk):
                index.add(self._keys(slice(s, min(hi, s + self.add_chunk))))
            return index

        lo, hi = self.rows.start, self.rows.stop
        n = hi - lo
        if shards <= 1:
            if kind == "flat":
                return make(lo, hi)
            part = "" if n == len(self.proj) else f"_{lo}-{hi}"
            cached = self.db.root / f"index_{_kind(self.colour)}_{kind}{part}.faiss"
            if cached.exists():
                index = faiss.read_index(str(cached))
                if index.ntotal == n and index.d == d:
                    return index
            index = make(lo, hi)
            with atomic_path(cached) as tmp:
                faiss.write_index(index, str(tmp))
            return index
        combined = faiss.IndexShards(d, True, True)  # threaded, successive ids
        bounds = np.linspace(lo, hi, shards + 1).astype(int)
        self._parts = [make(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        for part in self._parts:
            combined.add_shard(part)
        return combined

    def _keys(self, rows: slice) -> np.ndarray:
        """The indexed vectors ``[p_x, ||r_x||]`` of a range of the database (float32)."""
        p = np.array(self.proj[rows], dtype=np.float32)  # a writable, contiguous copy
        if self.resid is None:
            return p
        return np.concatenate([p, self.resid[rows, None]], axis=1)

    def project(self, vectors: torch.Tensor) -> np.ndarray:
        """Normalised query vectors -> their search keys ``[p_q, 0]`` (float32)."""
        p = ((vectors - self.mean) @ self.components.T).numpy().astype(np.float32)
        if self.resid is None:
            return p
        return np.concatenate([p, np.zeros((len(p), 1), np.float32)], axis=1)

    def shortlist(self, vectors: torch.Tensor, size: int) -> np.ndarray:
        """Positions (global, in the database) of the ``size`` best candidates per query."""
        q = self.project(vectors)
        size = min(size, len(self.rows))
        if self.index is not None:
            import faiss

            for part in [self.index, *getattr(self, "_parts", [])]:
                if hasattr(part, "hnsw"):  # the graph search must explore at least `size`
                    part.hnsw.efSearch = max(part.hnsw.efSearch, 2 * size)
                with contextlib.suppress(RuntimeError):  # not an IVF index
                    faiss.extract_index_ivf(part).nprobe = self.nprobe
            _, ids = self.index.search(q, size)
        else:
            if self._all_keys is None:  # brute force (small databases): built once
                self._all_keys = torch.from_numpy(self._keys(slice(self.rows.start,
                                                                   self.rows.stop)))  # fmt: skip
            ids = d_ssd(torch.from_numpy(q), self._all_keys).topk(size, largest=False).indices
            ids = ids.numpy()
        return np.where(ids >= 0, ids + self.rows.start, -1)

    def search(self, tinies: torch.Tensor, k: int = 16, shortlist: int | None = None):
        """Nearest ``k`` of each query tiny image ``(Q, 3, 32, 32)`` uint8 by exact ``D_ssd``,
        re-ranking ``shortlist`` candidates (None: the size :func:`auto_settings` chose).

        Returns ``(distances (Q, k), positions (Q, k))``, nearest first. The candidates of the
        whole batch are read in one pass over the shards and re-ranked with one batched product.
        """
        shortlist = self.shortlist_size if shortlist is None else shortlist
        queries = normalise(tinies, self.colour)
        cand = self.shortlist(queries, max(k, shortlist))  # (Q, S); -1 where HNSW found fewer
        valid = cand >= 0
        safe = np.where(valid, cand, self.rows.start)
        d = self._rerank(queries, safe)
        d = d.clamp_min(0).masked_fill(torch.from_numpy(~valid), float("inf"))
        kk = min(k, d.shape[1])
        dist, order = d.topk(kk, dim=1, largest=False)
        return dist, torch.from_numpy(safe).gather(1, order)

    def _rerank(self, queries: torch.Tensor, cand: np.ndarray, rows: int = 512) -> torch.Tensor:
        """Exact ``D_ssd`` of each query to its candidates ``(Q, S)``, ``rows`` candidates at a
        time (their float copy, 6 MB, stays in cache)."""
        chunk = max(1, rows // max(1, cand.shape[1]))
        q_flat = queries.norm(dim=1, keepdim=True) == 0
        if self.norms is None:  # a database from before norms were stored
            full = normalise(self.db.tiny(cand.ravel()), self.colour).view(*cand.shape, -1)
            d = 2.0 - 2.0 * torch.einsum("qd,qsd->qs", queries, full)
            flat = q_flat | (full.norm(dim=2) == 0)
            return torch.where(flat, (queries**2).sum(1, keepdim=True) + (full**2).sum(2), d)
        out = torch.empty(cand.shape, dtype=torch.float32)
        for s in range(0, len(cand), chunk):
            ids = cand[s : s + chunk]
            raw = self.db.tiny(ids.ravel())
            x = (raw.float() if self.colour else grey(raw)).view(*ids.shape, -1)
            dots = torch.einsum("qd,qsd->qs", queries[s : s + chunk], x)
            n = torch.from_numpy(np.asarray(self.norms[ids.ravel()]).reshape(ids.shape))
            flat = q_flat[s : s + chunk] | (n <= 1e-6)
            # unit query against a flat (zero) candidate: 1; flat query against anything: 1 or 0
            flat_d = (queries[s : s + chunk] ** 2).sum(1, keepdim=True) + (n > 1e-6).float()
            out[s : s + chunk] = torch.where(flat, flat_d, 2.0 - 2.0 * dots / n.clamp_min(1e-6))
        return out


def exact_search(db: TinyDB, tinies: torch.Tensor, k: int = 16, colour: bool = True):
    """Brute-force ``D_ssd`` against the whole database (the reference for recall)."""
    queries = normalise(tinies, colour)
    best_d = torch.full((len(queries), k), float("inf"))
    best_i = torch.zeros((len(queries), k), dtype=torch.long)
    for offset, shard in db.iter_shards():
        for s in range(0, len(shard), 16384):  # 200 MB of floats at a time
            block = normalise(torch.from_numpy(np.array(shard[s : s + 16384])), colour)
            d, ids = d_ssd(queries, block).topk(min(k, len(block)), dim=1, largest=False)
            all_d, all_i = torch.cat([best_d, d], 1), torch.cat([best_i, ids + offset + s], 1)
            order = all_d.sort(dim=1, stable=True).indices[:, :k]
            best_d, best_i = all_d.gather(1, order), all_i.gather(1, order)
    return best_d, best_i
