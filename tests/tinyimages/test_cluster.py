"""A tiny-images database searched across a Dask cluster: the exact merge, a worker that dies,
and the CLI's ``--scheduler``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from photogen.cli.main import main
from photogen.tinyimages.cluster import Neighbours, PartFailedError, ShardedSearch, merge
from photogen.tinyimages.search import Searcher, fit_pca
from tests.tinyimages.test_scale import filled_db, smooth_tinies

distributed = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as c, \
            distributed.Client(c) as client:  # fmt: skip
        yield client


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    db = filled_db(tmp_path_factory.mktemp("cluster") / "db", 3_000, shard=512)
    fit_pca(db, dims=16)
    return db


def queries(n: int = 6) -> torch.Tensor:
    return torch.from_numpy(smooth_tinies(n, torch.Generator().manual_seed(3)))


def test_merge_keeps_the_k_nearest_by_distance_then_position():
    a = (np.array([[0.1, 0.5, 0.7]]), np.array([[4, 2, 9]]))
    b = (np.array([[0.5, 0.2, 0.9]]), np.array([[1, 30, 31]]))
    d, ids = merge([a, b], 4)
    assert ids.tolist() == [[4, 30, 1, 2]]  # 0.5 twice: the lower position first
    assert d[0].tolist() == pytest.approx([0.1, 0.2, 0.5, 0.5])
    assert torch.equal(merge([b, a], 4)[1], ids)  # whatever the parts' order


def test_sharded_search_equals_one_index_over_everything(cluster, db):
    q = queries()
    one_d, one_i = Searcher(db, index="flat").search(q, 8, len(db))
    sharded = ShardedSearch(cluster, db.root, index="flat")
    assert [p["hi"] - p["lo"] for p in sharded.info()] == [1500, 1500]
    assert len(set(sharded.workers)) == 2  # one part on each worker
    found = sharded.search(q, 8, 10**6)
    assert not found.partial
    assert torch.equal(found.positions, one_i) and torch.allclose(found.distances, one_d)
    # approximate parts (IVF in each) still answer with global positions, exactly re-ranked
    ivf = ShardedSearch(cluster, db.root, index="ivf", nprobe=32, parts=3).search(q, 8, 64)
    assert ivf.positions.max() >= 1500 and ivf.positions.min() < 1500
    recall = np.mean([len(set(a.tolist()) & set(b.tolist())) / 8
                      for a, b in zip(ivf.positions, one_i, strict=True)])  # fmt: skip
    assert recall > 0.8


class _Gone:
    """A part whose worker fails while answering."""

    def search(self, *args):
        class Call:
            def result(self):
                raise OSError("Timed out trying to connect to tcp://127.0.0.1:1")

        return Call()


def test_a_part_that_fails_mid_query_is_an_error_or_a_result_marked_partial(cluster, db):
    q = queries(3)
    sharded = ShardedSearch(cluster, db.root, index="flat")
    sharded.actors[1] = _Gone()  # the call is made, its answer never comes
    with pytest.raises(PartFailedError, match=r"1 of 2 parts .*images 1,500-2,999 .*Timed out"):
        sharded.search(q, 5, 10**6)
    found = sharded.search(q, 5, 10**6, allow_partial=True)
    assert isinstance(found, Neighbours) and found.partial and found.missing == [(1500, 3000)]
    first = Searcher(db, index="flat", rows=slice(0, 1500)).search(q, 5, 10**6)
    assert torch.equal(found.positions, first[1])  # what the live part holds, nothing else


def test_a_worker_that_dies_is_named_not_waited_for(tmp_path):
    import os
    import threading

    db = filled_db(tmp_path / "db", 1_000, shard=256)
    fit_pca(db, dims=8)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as c, \
            distributed.Client(c) as client:  # fmt: skip
        sharded = ShardedSearch(client, db.root, index="flat")
        victim = sharded.workers[0]
        with pytest.raises(Exception):  # noqa: B017 - the worker dies under the call
            client.run(os._exit, 1, workers=[victim])
        news = threading.Event()  # never set: polls the scheduler's list, 30 s at most
        for _ in range(600):
            if victim not in client.scheduler_info()["workers"]:
                break
            news.wait(0.05)
        with pytest.raises(PartFailedError, match=r"images 0-499 .*left the cluster"):
            sharded.search(queries(2), 4, 10**6)
        assert sharded.search(queries(2), 4, 10**6, allow_partial=True).missing == [(0, 500)]


def test_match_query_on_a_local_cluster_prints_what_a_local_search_prints(db, tmp_path, capsys):
    import shutil

    from PIL import Image

    photo = tmp_path / "q.png"
    Image.fromarray(smooth_tinies(1, torch.Generator().manual_seed(4))[0].transpose(1, 2, 0)
                    ).resize((64, 64)).save(photo)  # fmt: skip
    copy = tmp_path / "db"
    shutil.copytree(db.root, copy)
    common = ["match", "query", str(photo), "--db", str(copy), "-k", "5", "--index", "flat",
              "--shortlist", "3000"]  # fmt: skip
    assert main([*common, "-o", str(tmp_path / "a.png"), "-q"]) == 0
    here = capsys.readouterr().out
    assert main([*common, "-o", str(tmp_path / "b.png"), "-q", "--scheduler", "local",
                 "--workers", "2"]) == 0  # fmt: skip
    there = capsys.readouterr().out
    assert here.count("D=") == 5 and there == here
