"""A tiny-images database: ``uint8`` 32x32 images in memory-mapped ``.npy`` shards and a SQLite
catalogue (path, label, content hash, shard, row).

Layout of ``DB/``: ``catalogue.sqlite``; ``shards/tiny_00000.npy`` ... each ``(n, 3, 32, 32)``
uint8 (3,072 bytes per image, as the paper stored them). A build adds files chunk by chunk:
the shard is written atomically first, then its catalogue rows in one transaction, so an
interrupted build loses at most the chunk in flight and a rerun skips every file already in
the catalogue (same result as an uninterrupted build). Files whose content hash is already in
the database are skipped as duplicates; unreadable files are reported and skipped.

Memory does not grow with the database: a build walks the folders lazily and asks the
catalogue (its unique indexes on path and hash) about each chunk's files, rather than holding
every path and hash; the position of an image (its rank in id order) maps to its shard and row
through the shards table's running counts (a few bytes per shard), since images are only ever
appended shard by shard; catalogue values are read for the positions asked (:meth:`TinyDB.values`).
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from photogen.core.atomic import atomic_path
from photogen.core.image import IMAGE_SUFFIXES, ImageError, list_images, read_image
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
        self._layout: tuple | None = None
        self._table: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.sql.execute("SELECT COUNT(*) FROM images").fetchone()[0])

    def shard_path(self, shard: int) -> Path:
        return self.root / "shards" / f"tiny_{shard:05d}.npy"

    def shards(self) -> list[tuple[int, int]]:
        return list(self.sql.execute("SELECT shard, count FROM shards ORDER BY shard"))

    def known(self, column: str, values: list[str]) -> set[str]:
        """Those of ``values`` already in the catalogue's ``path`` or ``hash`` column (each a
        unique index: one lookup per value, nothing held per image)."""
        if column not in ("path", "hash"):
            raise ValueError(column)
        out: set[str] = set()
        for s in range(0, len(values), 900):
            part = values[s : s + 900]
            marks = ",".join("?" * len(part))
            out.update(r[0] for r in self.sql.execute(
                f"SELECT {column} FROM images WHERE {column} IN ({marks})", part))  # fmt: skip
        return out

    def add(self, tinies: np.ndarray, paths: list[str], labels: list[str], hashes: list[str]):
        """Append one shard of images and their catalogue rows (atomically, in that order)."""
        if len(tinies) == 0:
            return
        self._layout = self._table = None  # positions change: rebuild the lookup
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
        table = self.ids_to_rows()  # 16 bytes per image: preloading holds 3,072 anyway
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

    def layout(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(shard numbers, first position of each)`` when the catalogue is laid out as
        :meth:`add` writes it (ids 1..N in shard order, rows 0..count-1 in id order), checked
        once with one aggregate query; None otherwise (then positions go through the table)."""
        if self._layout is None:
            rows = self.sql.execute(
                "SELECT s.shard, s.count, COUNT(i.id), MIN(i.id), MAX(i.id), MIN(i.row), "
                "MAX(i.row) FROM shards s LEFT JOIN images i ON i.shard = s.shard "
                "GROUP BY s.shard ORDER BY s.shard").fetchall()  # fmt: skip
            first, ok, expect = [], True, 1
            for _, count, n, lo, hi, rlo, rhi in rows:
                if n != count or (n and (lo != expect or hi != expect + n - 1 or rlo != 0
                                         or rhi != n - 1)):  # fmt: skip
                    ok = False
                    break
                first.append(expect - 1)
                expect += n
            ok = ok and expect - 1 == len(self)
            shards = np.asarray([r[0] for r in rows], dtype=np.int64)
            self._layout = (shards, np.asarray(first, dtype=np.int64)) if ok else (None, None)
        return None if self._layout[0] is None else self._layout

    def ids_to_rows(self, positions: np.ndarray | None = None) -> np.ndarray:
        """``(len, 2)`` shard and row of each position (default: all, in id order)."""
        lay = self.layout()
        if lay is None:  # not as add() writes it: the whole table (16 bytes per image)
            if self._table is None:
                rows = self.sql.execute("SELECT shard, row FROM images ORDER BY id").fetchall()
                self._table = np.asarray(rows, dtype=np.int64).reshape(-1, 2)
            return self._table if positions is None else self._table[positions]
        if positions is None:
            positions = np.arange(len(self), dtype=np.int64)
        shards, first = lay
        k = np.searchsorted(first, positions, side="right") - 1
        return np.stack([shards[k], positions - first[k]], axis=1)

    def values(self, column: str, positions) -> list:
        """Catalogue values (``path``, ``label`` or ``hash``) of some positions, in their order,
        read for those positions only."""
        if column not in ("path", "label", "hash"):
            raise ValueError(column)
        positions = [int(p) for p in np.asarray(positions).ravel()]
        if self.layout() is None:
            every = self.catalogue(column)
            return [every[p] for p in positions]
        found: dict[int, str] = {}
        wanted = sorted(set(positions))
        for s in range(0, len(wanted), 900):
            part = [p + 1 for p in wanted[s : s + 900]]
            marks = ",".join("?" * len(part))
            found.update((i - 1, v) for i, v in self.sql.execute(
                f"SELECT id, {column} FROM images WHERE id IN ({marks})", part))  # fmt: skip
        return [found[p] for p in positions]

    def counts(self, column: str = "label") -> list[tuple[str, int]]:
        """``(value, images)`` of a catalogue column, most frequent first (counted by SQLite)."""
        if column not in ("label",):
            raise ValueError(column)
        query = f"SELECT {column}, COUNT(*) c FROM images GROUP BY {column} ORDER BY c DESC"
        return list(self.sql.execute(query))

    def tiny(self, positions: np.ndarray) -> torch.Tensor:
        """uint8 ``(len, 3, 32, 32)`` for database positions (0-based, id order); one fancy
        read per shard touched."""
        positions = np.asarray(positions, dtype=np.int64).ravel()
        if getattr(self, "_ram", None) is not None:
            return self._ram.index_select(0, torch.from_numpy(positions))
        where = self.ids_to_rows(positions)
        out = np.empty((len(positions), 3, 32, 32), dtype=np.uint8)
        for shard in np.unique(where[:, 0]):
            sel = np.nonzero(where[:, 0] == shard)[0]
            out[sel] = self._map(int(shard))[where[sel, 1]]
        return torch.from_numpy(out)

    def catalogue(self, column: str) -> list:
        """A whole catalogue column (``path``, ``label`` or ``hash``) in id order: a Python list
        of every image's value (for small databases; :meth:`values` reads only some)."""
        if column not in ("path", "label", "hash"):
            raise ValueError(column)
        return [r[0] for r in self.sql.execute(f"SELECT {column} FROM images ORDER BY id")]


def iter_images(inputs: list[str | os.PathLike]) -> Iterator[Path]:
    """The files :func:`~photogen.core.image.list_images` lists recursively, in the same order,
    one at a time (a folder of millions is walked, not held): each folder's entries sorted by
    name, a sub-folder walked where its name falls."""

    def walk(folder: str) -> Iterator[Path]:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        for e in entries:
            if e.is_dir(follow_symlinks=False):
                yield from walk(e.path)
            elif e.is_file() and os.path.splitext(e.name)[1].lower() in IMAGE_SUFFIXES:
                yield Path(e.path)

    for item in [inputs] if isinstance(inputs, str | os.PathLike) else inputs:
        if Path(item).is_dir():
            yield from walk(str(item))
        else:
            yield from list_images([item], recursive=True)


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
    added = dup = bad = 0
    with ThreadPoolExecutor(max(1, workers)) as pool:
        files = iter_images(inputs)
        chunks = iter(lambda: list(itertools.islice(files, chunk)), [])
        if stop_after is not None:
            chunks = itertools.islice(chunks, stop_after)

        def decode(part: list[Path]) -> list:
            if client is None:
                return list(pool.map(_load, part))
            pieces = [part[i :: max(1, workers)] for i in range(max(1, workers))]
            results = client.gather(client.map(_load_many, pieces, pure=False))
            merged = [None] * len(part)
            for i, res in enumerate(results):
                merged[i :: max(1, workers)] = res
            return merged

        for listed in chunks:
            there = db.known("path", [str(p) for p in listed])
            part = [p for p in listed if str(p) not in there]
            if not part:
                progress(len(listed))
                continue
            decoded = decode(part)
            hashes = db.known("hash", [d for d, _ in decoded if d is not None])
            tinies, paths, labs, digests = [], [], [], []
            for path, (digest, result) in zip(part, decoded, strict=True):
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
            progress(len(listed))
    return {"added": added, "duplicates": dup, "unreadable": bad, "total": len(db)}
