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

    def __init__(self, db_path: str | Path):
        from photogen.tinyimages.database import TinyDB

        self.path = Path(db_path)
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

        db = self.db
        if colour not in self._local.searchers:
            self._local.searchers[colour] = Searcher(db, colour=colour)
        return self._local.searchers[colour]

    def match(self, image: torch.Tensor, k: int = 16, weighting: str = "distance") -> dict:
        """``(1, 3, H, W)`` photo -> neighbours (PNG montage, distances, labels), the vote, and
        the sibling colorization (PNG, the photo's size)."""
        from photogen.pixelcnn.train import sample_grid
        from photogen.tinyimages.tiny import enlarge, tiny_image
        from photogen.tinyimages.vote import grey_query, sibling_colorize, vote

        if not 1 <= int(k) <= 64:
            raise ValueError(f"k must be 1..64, got {k}")
        tiny = tiny_image(image)
        dist, ids = self._searcher(True).search(tiny[None], int(k))
        dist, ids = dist[0], ids[0]
        names = self.db.values("label", ids.numpy())
        best, share, votes = vote(names, dist, weighting)
        tiles = torch.cat([tiny[None], self.db.tiny(ids.numpy())])
        montage = sample_grid(enlarge(tiles), cols=min(9, len(tiles)), pad=4)
        grey, grey_tiny = grey_query(image)
        _, sib = self._searcher(False).search(grey_tiny[None], int(k))
        coloured, _ = sibling_colorize(grey, self.db.tiny(sib[0].numpy()))
        return {
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
