"""Search a tiny-images database spread over a Dask cluster (Torralba et al.'s 80M on many
machines).

The database is cut into contiguous ranges of positions, one per worker. Each worker holds a
:class:`~photogen.tinyimages.search.Searcher` over its range (a Dask actor: the FAISS index is
built or read there once and stays in that worker's memory; its shortlist is re-ranked
exactly with its own rows of the memory-mapped shards). A query batch goes to every part at
once; each returns its ``k`` nearest by exact ``D_ssd`` with global positions, and the ``k``
nearest of all of them are kept here, ordered by distance then position. Since each part's
answer is exact over its candidates, the merge is exact: with exact shortlists it equals one
index over everything (tested).

The workers read the database folder by its path, so on several machines it must be on storage
they share (or copied to the same path on each). A part whose worker has died, or fails, makes
:meth:`ShardedSearch.search` raise :class:`PartFailedError` naming the images it held; with
``allow_partial=True`` the others' answer comes back marked partial instead
(:attr:`Neighbours.missing`), never silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch


def connect(scheduler: str, workers: int = 2):
    """A Dask client: ``scheduler`` ``threads`` -> None (work stays in this process),
    ``local`` -> a LocalCluster of ``workers`` single-threaded processes, else the scheduler at
    that address (``tcp://host:8786``). ImportError (with the install line) without Dask."""
    if scheduler == "threads":
        return None
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ImportError("needs Dask: pip install 'dask[distributed]'") from None
    if scheduler == "local":
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        return Client(cluster)
    return Client(scheduler)


class PartFailedError(RuntimeError):
    """A part of the database did not answer (its worker died or failed)."""


@dataclass
class Neighbours:
    """The merged answer: ``distances`` and ``positions`` ``(Q, k)``, nearest first;
    ``missing``: the ``(first, end)`` position ranges of parts that did not answer (empty for
    a complete answer)."""

    distances: torch.Tensor
    positions: torch.Tensor
    missing: list[tuple[int, int]] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        return bool(self.missing)


class PartSearcher:
    """One worker's part: a Searcher over positions ``[lo, hi)`` (a Dask actor)."""

    def __init__(self, db_path: str, lo: int, hi: int, colour: bool, index: str,
                 nprobe: int | None):  # fmt: skip
        from photogen.tinyimages.database import TinyDB
        from photogen.tinyimages.search import Searcher

        self.lo, self.hi = lo, hi
        db = TinyDB(db_path)
        self.searcher = Searcher(db, colour=colour, index=index, nprobe=nprobe,
                                 rows=slice(lo, hi))  # fmt: skip
        # Dask runs an actor's methods on another thread than its constructor, and SQLite
        # connections stay in their thread: the positions' lookup is read here, once, and the
        # searches touch only memory-mapped files after it
        db.ids_to_rows(np.zeros(1, dtype=np.int64))

    def info(self) -> dict:
        from photogen.core.memory import rss_anon

        s = self.searcher
        return {"lo": self.lo, "hi": self.hi, "index": s.kind, "nprobe": s.nprobe,
                "shortlist": s.shortlist_size, "rss_anon": rss_anon()}  # fmt: skip

    def search(self, tinies: np.ndarray, k: int, shortlist: int | None):
        d, ids = self.searcher.search(torch.from_numpy(tinies), k, shortlist)
        return d.numpy(), ids.numpy()


def merge(parts: list[tuple[np.ndarray, np.ndarray]], k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` nearest of several parts' answers (each ``(Q, k_i)`` distances and global
    positions), ordered by distance, then position (the same order whatever the parts)."""
    d = np.concatenate([p[0] for p in parts], axis=1)
    ids = np.concatenate([p[1] for p in parts], axis=1)
    order = np.lexsort((ids, d), axis=1)[:, :k]
    return (torch.from_numpy(np.take_along_axis(d, order, 1)),
            torch.from_numpy(np.take_along_axis(ids, order, 1)))  # fmt: skip


class ShardedSearch:
    """A database searched by the workers of ``client`` (a ``dask.distributed.Client``), one
    contiguous part per worker (or ``parts`` of them, spread over the workers in turn).
    ``index``/``nprobe``: each part's (``auto``: chosen by the part's size)."""

    def __init__(self, client, db_path: str | Path, colour: bool = True, index: str = "auto",
                 nprobe: int | None = None, parts: int | None = None):  # fmt: skip
        from photogen.tinyimages.database import TinyDB

        db = TinyDB(db_path)
        n = len(db)
        db.sql.close()
        workers = sorted(client.scheduler_info()["workers"])
        if not workers:
            raise ValueError("the Dask cluster has no workers")
        count = max(1, min(n, parts or len(workers)))
        bounds = np.linspace(0, n, count + 1).astype(int)
        self.client, self.colour = client, colour
        self.ranges = [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        self.workers = [workers[i % len(workers)] for i in range(count)]
        futures = [client.submit(PartSearcher, str(Path(db_path).resolve()), lo, hi, colour,
                                 index, nprobe, actor=True, workers=[w], pure=False)
                   for (lo, hi), w in zip(self.ranges, self.workers, strict=True)]  # fmt: skip
        self.actors = [f.result() for f in futures]
        self._futures = futures  # the actors live as long as their futures

    def info(self) -> list[dict]:
        """Each part's range, index, settings and its worker's anonymous memory."""
        return [a.info().result() for a in self.actors]

    def search(self, tinies: torch.Tensor, k: int = 16, shortlist: int | None = None,
               allow_partial: bool = False) -> Neighbours:  # fmt: skip
        """Nearest ``k`` of each query ``(Q, 3, 32, 32)`` uint8 over every part (exact merge).
        Raises :class:`PartFailedError` if a part does not answer, unless ``allow_partial``."""
        batch = np.ascontiguousarray(tinies.numpy())
        alive = set(self.client.scheduler_info()["workers"])
        calls = []
        for actor, worker in zip(self.actors, self.workers, strict=True):  # all parts at once
            if worker not in alive:  # gone from the cluster: no 30 s wait to connect to it
                calls.append(ConnectionError("the worker has left the cluster"))
                continue
            try:
                calls.append(actor.search(batch, k, shortlist))
            except Exception as exc:  # noqa: BLE001 - reported with the part below
                calls.append(exc)
        answers, missing, reasons = [], [], []
        for call, rng, worker in zip(calls, self.ranges, self.workers, strict=True):
            try:
                if isinstance(call, Exception):
                    raise call
                answers.append(call.result())
            except Exception as exc:  # noqa: BLE001 - any failure of a part is reported
                missing.append(rng)
                reasons.append(f"images {rng[0]:,}-{rng[1] - 1:,} on {worker}: "
                               f"{type(exc).__name__}: {exc}".strip())  # fmt: skip
        if missing and (not allow_partial or not answers):
            raise PartFailedError(f"{len(missing)} of {len(calls)} parts did not answer ("
                             + "; ".join(reasons) + ")")  # fmt: skip
        d, ids = merge(answers, k)
        return Neighbours(d, ids, missing)
