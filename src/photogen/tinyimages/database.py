"""A tiny-images database: ``uint8`` 32x32 images in memory-mapped ``.npy`` shards and a SQLite
catalogue (path, label, content hash, shard, row).

Layout of ``DB/``: ``catalogue.sqlite``; ``shards/tiny_00000.npy`` ... each ``(n, 3, 32, 32)``
uint8 (3,072 bytes per image, as the paper stored them). A build adds files chunk by chunk:
the shard is written atomically first, then its catalogue rows in one transaction, so an
interrupted build loses at most the chunk in flight and a rerun skips every file already in
the catalogue (same result as an uninterrupted build). Files whose content hash is already in
the database are skipped as duplicates; unreadable files are reported and skipped.
"""

from __future__ import annotations

import csv
import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from photogen.core.atomic import atomic_path
from photogen.core.image import ImageError, list_images, read_image
from photogen.tinyimages.tiny import tiny_image

_SCHEMA = """
CREATE TABLE IF NOT EXISTS images (
    id INTEGER PRIMARY KEY, path TEXT UNIQUE, label TEXT, hash TEXT UNIQUE,
    shard INTEGER NOT NULL, row INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS shards (shard INTEGER PRIMARY KEY, count INTEGER NOT NULL);
"""


class TinyDB:
    """Open (or create) the database in ``root``."""

    def __init__(self, root: str | os.PathLike, create: bool = False):
        self.root = Path(root)
        path = self.root / "catalogue.sqlite"
        if not path.exists() and not create:
            raise ValueError(f"{self.root}: no tiny-images database (build one with 'match build')")
        (self.root / "shards").mkdir(parents=True, exist_ok=True)
        self.sql = sqlite3.connect(path)
        self.sql.executescript(_SCHEMA)
        self._maps: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return int(self.sql.execute("SELECT COUNT(*) FROM images").fetchone()[0])

    def shard_path(self, shard: int) -> Path:
        return self.root / "shards" / f"tiny_{shard:05d}.npy"

    def shards(self) -> list[tuple[int, int]]:
        return list(self.sql.execute("SELECT shard, count FROM shards ORDER BY shard"))

    def known_paths(self) -> set[str]:
        return {row[0] for row in self.sql.execute("SELECT path FROM images")}

    def known_hashes(self) -> set[str]:
        return {row[0] for row in self.sql.execute("SELECT hash FROM images")}

    def add(self, tinies: np.ndarray, paths: list[str], labels: list[str], hashes: list[str]):
        """Append one shard of images and their catalogue rows (atomically, in that order)."""
        if len(tinies) == 0:
            return
        self.__dict__.pop("_table", None)  # positions change: rebuild the lookup table
        shard = self.sql.execute("SELECT COALESCE(MAX(shard), -1) + 1 FROM shards").fetchone()[0]
        with atomic_path(self.shard_path(shard)) as tmp, open(tmp, "wb") as f:
            np.save(f, np.ascontiguousarray(tinies, dtype=np.uint8))
        with self.sql:  # one transaction
            self.sql.execute("INSERT INTO shards VALUES (?, ?)", (shard, len(tinies)))
            self.sql.executemany(
                "INSERT INTO images (path, label, hash, shard, row) VALUES (?, ?, ?, ?, ?)",
                [(p, lab, h, shard, r)
                 for r, (p, lab, h) in enumerate(zip(paths, labels, hashes, strict=True))],
            )  # fmt: skip

    def _map(self, shard: int) -> np.ndarray:
        if shard not in self._maps:
            self._maps[shard] = np.load(self.shard_path(shard), mmap_mode="r")
        return self._maps[shard]

    def preload(self) -> int:
        """Copy every image into one array in memory (3,072 bytes per image, id order), so that
        random reads are one multi-threaded gather without page faults; for databases that fit
        in RAM. Returns the bytes."""
        table = self.ids_to_rows()
        ram = torch.empty((len(table), 3, 32, 32), dtype=torch.uint8)
        for shard in np.unique(table[:, 0]):
            sel = np.nonzero(table[:, 0] == shard)[0]
            ram[torch.from_numpy(sel)] = torch.from_numpy(np.ascontiguousarray(
                np.load(self.shard_path(int(shard)))[table[sel, 1]]))  # fmt: skip
        self._ram = ram
        return ram.numel()

    def iter_shards(self) -> Iterable[tuple[int, np.ndarray]]:
        """``(first id offset, uint8 array)`` per shard, memory-mapped, in id order."""
        offset = 0
        for shard, count in self.shards():
            yield offset, self._map(shard)
            offset += count

    def ids_to_rows(self) -> np.ndarray:
        """``(N, 2)`` shard and row of each image, indexed by position (id order)."""
        rows = self.sql.execute("SELECT shard, row FROM images ORDER BY id").fetchall()
        return np.asarray(rows, dtype=np.int64).reshape(-1, 2)

    def tiny(self, positions: np.ndarray) -> torch.Tensor:
        """uint8 ``(len, 3, 32, 32)`` for database positions (0-based, id order); one fancy
        read per shard touched."""
        positions = np.asarray(positions, dtype=np.int64).ravel()
        if getattr(self, "_ram", None) is not None:
            return self._ram.index_select(0, torch.from_numpy(positions))
        if not hasattr(self, "_table"):
            self._table = self.ids_to_rows()
        where = self._table[positions]
        out = np.empty((len(positions), 3, 32, 32), dtype=np.uint8)
        for shard in np.unique(where[:, 0]):
            sel = np.nonzero(where[:, 0] == shard)[0]
            out[sel] = self._map(int(shard))[where[sel, 1]]
        return torch.from_numpy(out)

    def catalogue(self, column: str) -> list:
        """A catalogue column (``path``, ``label`` or ``hash``) in id order."""
        if column not in ("path", "label", "hash"):
            raise ValueError(column)
        return [r[0] for r in self.sql.execute(f"SELECT {column} FROM images ORDER BY id")]


def read_labels(path: str | os.PathLike) -> dict[str, str]:
    """A CSV of ``path,label`` rows (a header row is allowed); keys are paths or file names."""
    out = {}
    with open(path, newline="") as f:
        for row in csv.reader(f):
            if len(row) >= 2 and row[0] not in ("path", "file", "filename"):
                out[row[0]] = row[1]
    return out


def _load(path: Path) -> tuple[str, np.ndarray] | tuple[None, str]:
    """``(sha1 of the bytes, tiny uint8)``, or ``(None, one-line reason)``."""
    try:
        data = path.read_bytes()
        digest = hashlib.sha1(data).hexdigest()
        return digest, tiny_image(read_image(path)).numpy()
    except ImageError as exc:
        return None, str(exc)
    except OSError as exc:
        return None, f"{path}: {exc}"


def _load_many(paths: list[Path]) -> list:
    """Decode a chunk (runs on a Dask worker, or in a thread)."""
    return [_load(p) for p in paths]


def build(
    db: TinyDB,
    inputs: list[str | os.PathLike],
    labels: dict[str, str] | None = None,
    chunk: int = 4096,
    workers: int = 2,
    on_error: Callable[[str], None] = lambda msg: None,
    progress: Callable[[int], None] = lambda n: None,
    stop_after: int | None = None,
    client=None,
) -> dict:
    """Add every image under ``inputs`` (recursively) that is not in ``db`` yet.

    Decoding runs on ``client`` (a ``dask.distributed.Client``: a cluster of any size; each
    chunk is split into ``workers`` tasks) or, without one, on ``workers`` threads. The
    database is written here, chunk by chunk, in file order, so the result does not depend on
    where decoding ran. Labels: ``labels[path]`` or ``labels[file name]``, else the parent
    folder's name. ``stop_after`` chunks: for tests of interrupted builds. Returns counts.
    """
    known = db.known_paths()
    hashes = db.known_hashes()
    files = [p for p in list_images(inputs, recursive=True) if str(p) not in known]
    added = dup = bad = 0
    with ThreadPoolExecutor(max(1, workers)) as pool:
        chunks = [files[s : s + chunk] for s in range(0, len(files), chunk)]
        if stop_after is not None:
            chunks = chunks[:stop_after]

        def decode(part: list[Path]) -> list:
            if client is None:
                return list(pool.map(_load, part))
            pieces = [part[i :: max(1, workers)] for i in range(max(1, workers))]
            results = client.gather(client.map(_load_many, pieces, pure=False))
            merged = [None] * len(part)
            for i, res in enumerate(results):
                merged[i :: max(1, workers)] = res
            return merged

        for part in chunks:
            tinies, paths, labs, digests = [], [], [], []
            for path, (digest, result) in zip(part, decode(part), strict=True):
                if digest is None:
                    bad += 1
                    on_error(f"{result} (skipped)")
                    continue
                if digest in hashes:
                    dup += 1
                    continue
                hashes.add(digest)
                tinies.append(result)
                paths.append(str(path))
                lab = (labels or {}).get(str(path), (labels or {}).get(path.name))
                labs.append(lab if lab is not None else path.parent.name)
                digests.append(digest)
            if tinies:
                db.add(np.stack(tinies), paths, labs, digests)
            added += len(tinies)
            progress(len(part))
    return {"added": added, "duplicates": dup, "unreadable": bad, "total": len(db)}
