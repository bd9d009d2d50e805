"""Tiny images at scale: each mechanism that keeps memory bounded, on small data.

Positions through the shard counts, lazy folder walks, the sampled (block-wise) PCA, the index
filled by chunks, IVF-PQ, the settings chosen by size, and the memory bound itself on a
database larger than the PCA's sample.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from photogen.core.image import list_images
from photogen.core.memory import AnonPeak, rss_anon
from photogen.tinyimages.database import TinyDB, iter_images
from photogen.tinyimages.search import Searcher, auto_settings, exact_search, fit_pca
from photogen.tinyimages.tiny import normalise


def smooth_tinies(n: int, gen: torch.Generator) -> np.ndarray:
    """``n`` smooth random colour tiny images (uint8): structure a PCA can find (48 coarse
    coefficients of decaying spread, so the leading components are well separated)."""
    spread = torch.exp(-torch.arange(48.0) / 10).view(1, 3, 4, 4)
    low = 0.5 + (torch.rand(n, 3, 4, 4, generator=gen) - 0.5) * spread
    img = F.interpolate(low, size=(32, 32), mode="bilinear", align_corners=False)
    img = img + 0.05 * torch.rand(n, 3, 32, 32, generator=gen)
    return (img.clamp(0, 1) * 255).round().to(torch.uint8).numpy()


def filled_db(path, n: int, shard: int = 4096, seed: int = 0) -> TinyDB:
    db = TinyDB(path, create=True)
    gen = torch.Generator().manual_seed(seed)
    for s in range(0, n, shard):
        count = min(shard, n - s)
        names = [f"img:{s + i}" for i in range(count)]
        db.add(smooth_tinies(count, gen), names, [f"l{(s + i) % 7}" for i in range(count)],
               [f"h{s + i}" for i in range(count)])  # fmt: skip
    return db


def test_positions_map_through_the_shard_counts_as_through_the_table(tmp_path):
    db = TinyDB(tmp_path / "db", create=True)
    gen = torch.Generator().manual_seed(0)
    for i, count in enumerate((5, 1, 7, 3)):  # shards of different sizes
        names = [f"s{i}:{r}" for r in range(count)]
        db.add(smooth_tinies(count, gen), names, [f"lab{i}"] * count, names)
    table = np.asarray(db.sql.execute("SELECT shard, row FROM images ORDER BY id").fetchall())
    assert db.layout() is not None
    assert np.array_equal(db.ids_to_rows(), table)
    pos = np.array([15, 0, 5, 6, 13, 12, 5])
    assert np.array_equal(db.ids_to_rows(pos), table[pos])
    assert db.values("path", pos) == [db.catalogue("path")[p] for p in pos]
    assert db.values("label", pos) == ["lab3", "lab0", "lab1", "lab2", "lab3", "lab2", "lab1"]
    assert db.counts("label") == [("lab2", 7), ("lab0", 5), ("lab3", 3), ("lab1", 1)]
    whole = db.tiny(np.arange(len(db)))
    assert torch.equal(db.tiny(pos), whole[pos])
    # a catalogue not as add() writes it (a row removed by hand): the table is used instead
    with db.sql:
        db.sql.execute("DELETE FROM images WHERE id = 3")
        db.sql.execute("UPDATE shards SET count = 4 WHERE shard = 0")
    fresh = TinyDB(tmp_path / "db")
    assert fresh.layout() is None
    table = np.asarray(fresh.sql.execute("SELECT shard, row FROM images ORDER BY id").fetchall())
    assert np.array_equal(fresh.ids_to_rows(np.array([2, 3, 9])), table[[2, 3, 9]])
    assert fresh.values("path", [1, 2, 3]) == ["s0:1", "s0:3", "s0:4"]  # s0:2 gone


def test_folders_are_walked_lazily_in_list_images_order(tmp_path):
    root = tmp_path / "photos"
    for rel in ("b.png", "a/z.jpg", "a/b/c.png", "a/b.png", "B/x.png", "a/notes.txt",
                "a/b/d/e.PNG", "c.webp"):  # fmt: skip
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"")
    lazy = iter_images([root, tmp_path / "missing.png"])
    assert next(lazy) == list_images(root, recursive=True)[0]  # a generator: one at a time
    expected = list_images([root, tmp_path / "missing.png"], recursive=True)
    assert [list_images(root, recursive=True)[0], *lazy] == expected
    assert len(expected) == 8  # seven pictures and the missing file (reported by the build)


def test_sampled_pca_is_within_tolerance_of_the_full_one(tmp_path):
    db = filled_db(tmp_path / "db", 6_000)
    x = normalise(db.tiny(np.arange(len(db))))
    centred = x - x.mean(0)

    def captured(sample: int) -> float:
        fit_pca(db, dims=16, sample=sample)
        comps = torch.from_numpy(np.load(db.root / "pca_colour.npz")["components"])
        return float((centred @ comps.T).square().sum() / centred.square().sum())

    full, sampled = captured(len(db)), captured(1_000)
    # the block-wise covariance's components are the data's principal ones (the top 16
    # singular values of the centred data hold the same share of the variance)
    top = torch.linalg.svdvals(centred).square()
    assert full == pytest.approx(float(top[:16].sum() / top.sum()), rel=1e-3)
    # a sample of a sixth captures all but a sliver of the variance the full PCA captures
    assert full > 0.5 and sampled == pytest.approx(full, rel=0.01)
    assert sampled <= full + 1e-6  # the full one is optimal on the full data


@pytest.mark.parametrize("kind", ["ivf", "ivfpq"])
def test_index_filled_in_chunks_equals_the_one_shot_index(tmp_path, kind):
    pytest.importorskip("faiss")
    db = filled_db(tmp_path / "db", 6_000)
    fit_pca(db, dims=16)
    queries = torch.from_numpy(smooth_tinies(20, torch.Generator().manual_seed(9)))
    one = Searcher(db, index=kind, nprobe=8).search(queries, 10, 40)
    for f in db.root.glob("index_*.faiss"):  # not the saved one: built again, by chunks
        f.unlink()
    chunked = Searcher(db, index=kind, nprobe=8, add_chunk=777)
    assert chunked.index.ntotal == len(db)
    two = chunked.search(queries, 10, 40)
    assert torch.equal(one[1], two[1]) and torch.equal(one[0], two[0])
    # and the shortlist + exact re-rank finds the exact neighbours of most queries
    _, truth = exact_search(db, queries, k=10)
    recall = np.mean([len(set(a.tolist()) & set(b.tolist())) / 10
                      for a, b in zip(two[1], truth, strict=True)])  # fmt: skip
    assert recall > 0.8


def test_settings_chosen_by_the_database_size():
    assert auto_settings(50_000)["index"] == "flat"
    one, four, ten, eighty = (auto_settings(n) for n in (10**6, 4 * 10**6, 10**7, 8 * 10**7))
    assert (one["index"], one["nprobe"], one["shortlist"]) == ("ivf", 32, 32)
    # nprobe grows with the database (as n^0.3, with 4 sqrt(n) cells)
    assert (four["nprobe"], ten["nprobe"], eighty["nprobe"]) == (49, 64, 119)
    assert four["index"] == "ivf" and four["shortlist"] == 64
    # compressed codes from 5M: 10M measured faster at the same recall, 80M fits in 3.2 GB
    assert ten["index"] == eighty["index"] == "ivfpq"


@pytest.mark.skipif(rss_anon() is None, reason="RssAnon needs Linux's /proc")
def test_memory_stays_bounded_on_a_database_larger_than_the_pca_sample(tmp_path):
    """220,000 images (0.68 GB of shards): the PCA fit, projections, IVF index and a search
    stay within 1.25 GiB of anonymous memory above the start, where holding the PCA's
    200,000-vector sample alone takes 2.3 GiB."""
    pytest.importorskip("faiss")
    db = filled_db(tmp_path / "db", 220_000, shard=16_384)
    queries = torch.from_numpy(smooth_tinies(200, torch.Generator().manual_seed(5)))
    with AnonPeak() as m:
        fit_pca(db, dims=32)
        searcher = Searcher(db)  # auto: IVF at this size
        dist, ids = searcher.search(queries, 10)
    assert searcher.kind == "ivf" and ids.shape == (200, 10)
    assert m.growth < 1.25 * (1 << 30), f"grew {m.growth / (1 << 30):.2f} GiB"
