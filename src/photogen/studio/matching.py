"""The studio's matching tab: one photo against the tiny-images database given with ``--db``
(Torralba et al. 2008): its nearest tiny images, the label they vote for, and the photo
coloured by its grey siblings. Calls ``photogen.tinyimages``; paths of the database's images
never leave the server (the page sees tiles, distances and labels)."""

from __future__ import annotations

import base64
import threading
from pathlib import Path
from typing import Annotated

import torch
from fastapi import File, Form, Request, UploadFile
from fastapi.responses import JSONResponse

from photogen.core.image import encode_png
from photogen.studio.context import RefusedError, Studio


class MatchService:
    """A database and its colour and grey searchers, opened once per worker thread (the
    catalogue is SQLite, whose connections stay in the thread that opened them)."""

    def __init__(self, db_path: str | Path, scheduler: str | None = None, parts: int = 2):
        """``scheduler``: a Dask scheduler address (or ``local``: a LocalCluster of ``parts``
        processes) whose workers each search a part of the database (photogen.tinyimages.
        cluster); None searches here."""
        from photogen.tinyimages.database import TinyDB

        self.path = Path(db_path)
        self.scheduler, self.parts = scheduler, parts
        self._client, self._sharded, self._lock = None, {}, threading.Lock()
        db = TinyDB(self.path)  # also checks it is a database
        # counted by SQLite once: nothing per image is held (a database of millions)
        self._info = {"images": len(db), "labels": len(db.counts("label"))}
        db.sql.close()
        self._local = threading.local()

    def info(self) -> dict:
        return dict(self._info)

    @property
    def db(self):
        from photogen.tinyimages.database import TinyDB

        if not hasattr(self._local, "db"):
            self._local.db, self._local.searchers = TinyDB(self.path), {}
        return self._local.db

    def _searcher(self, colour: bool):
        from photogen.tinyimages.search import Searcher

        if self.scheduler:
            return self._cluster(colour)
        db = self.db
        if colour not in self._local.searchers:
            self._local.searchers[colour] = Searcher(db, colour=colour)
        return self._local.searchers[colour]

    def _cluster(self, colour: bool):
        """The sharded search of one colour mode, shared by the worker threads (a Dask client
        may be used from several threads); started on first use."""
        from photogen.tinyimages.cluster import ShardedSearch, connect

        with self._lock:
            if self._client is None:
                self._client = connect(self.scheduler, self.parts)
            if colour not in self._sharded:
                self._sharded[colour] = ShardedSearch(self._client, self.path, colour=colour)
            return self._sharded[colour]

    def _search(self, colour: bool, tiny: torch.Tensor, k: int, missing: list):
        """``(distances, positions)`` of one query; a cluster's unanswered parts are added to
        ``missing`` (the answer is then partial, and says so)."""
        found = self._searcher(colour).search(tiny[None], k, **(
            {"allow_partial": True} if self.scheduler else {}))  # fmt: skip
        if self.scheduler:
            missing.extend(found.missing)
            return found.distances[0], found.positions[0]
        return found[0][0], found[1][0]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def match(self, image: torch.Tensor, k: int = 16, weighting: str = "distance") -> dict:
        """``(1, 3, H, W)`` photo -> neighbours (PNG montage, distances, labels), the vote, and
        the sibling colorization (PNG, the photo's size)."""
        from photogen.pixelcnn.train import sample_grid
        from photogen.tinyimages.tiny import enlarge, tiny_image
        from photogen.tinyimages.vote import grey_query, sibling_colorize, vote

        if not 1 <= int(k) <= 64:
            raise ValueError(f"k must be 1..64, got {k}")
        tiny = tiny_image(image)
        missing: list[tuple[int, int]] = []
        dist, ids = self._search(True, tiny, int(k), missing)
        names = self.db.values("label", ids.numpy())
        best, share, votes = vote(names, dist, weighting)
        tiles = torch.cat([tiny[None], self.db.tiny(ids.numpy())])
        montage = sample_grid(enlarge(tiles), cols=min(9, len(tiles)), pad=4)
        grey, grey_tiny = grey_query(image)
        _, sib = self._search(False, grey_tiny, int(k), missing)
        coloured, _ = sibling_colorize(grey, self.db.tiny(sib.numpy()))
        return {
            # a cluster's parts that did not answer: the neighbours are of the others only
            "partial": [[int(a), int(b)] for a, b in sorted(set(missing))],
            "neighbours": [
                {"distance": round(float(d), 4), "label": n}
                for d, n in zip(dist.tolist(), names, strict=True)
            ],  # fmt: skip
            "vote": {
                "label": best,
                "share": round(float(share), 3),
                "votes": {k_: round(float(v), 3) for k_, v in votes.items()},
            },  # fmt: skip
            "montage": encode_png(montage),
            "grey": encode_png(grey),
            "colourised": encode_png(coloured),
        }


def add_matching_routes(app, studio: Studio, matcher: MatchService | None) -> None:
    """What the database holds, and one photo matched against it (on the interactive lane)."""

    @app.get("/api/match/info")
    def match_info() -> JSONResponse:
        return JSONResponse({"available": False} if matcher is None
                            else {"available": True, **matcher.info()})  # fmt: skip

    @app.post("/api/match")
    async def match(
        request: Request, photo: Annotated[UploadFile, File()], k: Annotated[int, Form()] = 16
    ) -> JSONResponse:
        studio.session_of(request)
        if matcher is None:
            raise RefusedError(404, "no database: start the studio with --db TINY_DB")
        image = await studio.read_upload(photo, "photo")
        result = await studio.in_lane(matcher.match, image, k)
        for key in ("montage", "grey", "colourised"):
            result[key] = base64.b64encode(result[key]).decode()
        return JSONResponse(result)
