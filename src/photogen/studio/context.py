"""What every tab's routes are given: the studio's settings, its two lanes, the job manager and
the server's checks of a request (a visitor's session, an upload read within the limits).

Each tab lives in its own module with an ``add_*_routes(app, studio, ...)`` function; the server
(:mod:`photogen.studio.server`) builds one :class:`Studio` and calls them, so a new tab is a new
file, not an edit of ``create_app``.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import torch
from fastapi import Request, UploadFile

from photogen.core.image import decode_image


class RefusedError(Exception):
    """A request the studio answers with ``status`` and one line for the page."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class Studio:
    """One server's shared parts.

    Attributes:
        config: the :class:`~photogen.studio.server.StudioConfig`.
        lane: the interactive lane (an executor: frames, clicks, uploads).
        jobs: the :class:`~photogen.studio.jobs.JobManager` (long work, per visitor).
        device: where the networks run.
        session_cookie: the name of the visitor's session cookie.
    """

    config: Any
    lane: Any
    jobs: Any
    device: torch.device
    session_cookie: str = "photogen_session"

    def session_of(self, request: Request) -> str:
        """The visitor's session token, or a 401 for the page."""
        token = request.cookies.get(self.session_cookie)
        if not self.jobs.known(token):
            raise RefusedError(401, "no session (expired?): reload the page")
        return token

    async def read_upload(self, upload: UploadFile | None, name: str, keep_alpha: bool = False,
                          digests: dict | None = None) -> torch.Tensor | None:  # fmt: skip
        """An uploaded picture decoded off the event loop (None when not sent); over the byte
        limit is a 413, anything not a usable picture a one-line :class:`ImageError`.
        ``digests[name]`` gets the sha256 of the bytes (recorded in the result's settings)."""
        if upload is None:
            return None
        limit = self.config.max_upload
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise RefusedError(413, f"{name}: larger than {limit:,} bytes")
        if digests is not None:
            digests[name] = hashlib.sha256(data).hexdigest()
        return await asyncio.to_thread(decode_image, data, upload.filename or name,
                                       self.config.max_pixels, 8, keep_alpha)  # fmt: skip

    def settings(self, tab: str, fields: dict, inputs: dict | None = None) -> dict:
        """What a result PNG of ``tab`` records (its ``photogen`` text chunk, as AUTOMATIC1111's
        ``parameters``): the tab, the form's fields (names as the page's), the sha256 of each
        input picture, and what decides the pixels besides them: photogen's and PyTorch's
        versions, the device and the thread count. The page's "load settings" fills the tab's
        form from it; with the same pictures, a run gives the same image on the same device."""
        from photogen import __version__

        return {"studio": {"tab": tab, "fields": dict(fields), "inputs": dict(inputs or {})},
                "photogen": __version__, "torch": torch.__version__, "device": str(self.device),
                "threads": torch.get_num_threads(),
                "precision": self.config.precision}  # fmt: skip

    def start_job(self, session: str, tab: str, run: Callable, fields: dict,
                  inputs: dict | None = None) -> dict:  # fmt: skip
        """Queue the visitor's ``tab`` job ``run`` (its kind is the tab's name), its result
        recording :meth:`settings`; what the page shows of it (queue place and estimates)."""
        made = self.settings(tab, fields, inputs)
        return self.jobs.public(self.jobs.submit(session, tab, run, made))

    async def in_lane(self, fn: Callable[..., Any], *args) -> Awaitable[Any]:
        """``fn(*args)`` on the interactive lane."""
        return await asyncio.get_running_loop().run_in_executor(self.lane, fn, *args)
