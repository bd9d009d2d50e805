"""Long studio work as jobs: a queue with a concurrency limit, progress with an ETA, a preview
of the image being computed, cancel, and results kept per visitor.

A job is a plain function ``run(report) -> tensor`` executed on the server's worker pool;
``report(done, total, loss=None, image=None)`` updates its progress and raises
:class:`CancelRequestedError` once the visitor cancelled, so cancel stops the computation
itself at its next step (an L-BFGS evaluation, a pass of pixels), not only the page.
Everything stays in memory (no temporary files); a visitor's jobs are dropped when the visitor
has been idle for ``ttl`` seconds and when the server stops.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field

import torch

from photogen.core.image import encode_png


class CancelRequestedError(Exception):
    """Raised inside a job's computation when its visitor cancelled it."""


@dataclass
class Job:
    id: str
    kind: str
    status: str = "queued"  # queued, running, done, error, cancelled
    done: int = 0
    total: int = 0
    loss: float | None = None
    started: float | None = None
    finished: float | None = None
    error: str = ""
    preview: bytes | None = None
    preview_version: int = 0
    result: torch.Tensor | None = None
    curve: dict = field(default_factory=dict)  # series a job chooses to show (loss curves)
    cancel: threading.Event = field(default_factory=threading.Event)

    def public(self) -> dict:
        eta = None
        if self.status == "running" and self.started and self.done:
            rate = (time.monotonic() - self.started) / self.done
            eta = round(rate * max(0, self.total - self.done), 1)
        return {"id": self.id, "kind": self.kind, "status": self.status, "done": self.done,
                "total": self.total, "loss": self.loss, "eta": eta, "error": self.error,
                "preview": self.preview_version if self.preview else 0,
                "curve": {k: v[-400:] if isinstance(v, list) else v for k, v in self.curve.items()},
                "seconds": round((self.finished or time.monotonic()) - self.started, 1)
                if self.started else None}  # fmt: skip


class JobManager:
    """Jobs per visitor (a session token), run on ``pool`` (its size is the concurrency)."""

    def __init__(self, pool: Executor, ttl: float = 3600.0, per_session: int = 8,
                 preview_every: float = 0.25):  # fmt: skip
        self.pool, self.ttl, self.per_session = pool, ttl, per_session
        self.preview_every = preview_every
        self._jobs: dict[str, dict[str, Job]] = {}
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def new_session(self) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._jobs[token], self._seen[token] = {}, time.monotonic()
        return token

    def known(self, session: str | None) -> bool:
        self._expire()
        with self._lock:
            if session in self._jobs:
                self._seen[session] = time.monotonic()
                return True
        return False

    def _expire(self) -> None:
        now = time.monotonic()
        with self._lock:
            for token in [t for t, seen in self._seen.items() if now - seen > self.ttl]:
                for job in self._jobs.pop(token, {}).values():
                    job.cancel.set()
                del self._seen[token]

    def submit(self, session: str, kind: str, run: Callable) -> Job:
        """Queue ``run(report)``; finished jobs beyond ``per_session`` are forgotten."""
        job = Job(id=f"{next(self._ids)}-{secrets.token_hex(4)}", kind=kind)
        with self._lock:
            jobs = self._jobs[session]
            for old in [j for j in jobs.values() if j.status in ("done", "error", "cancelled")][
                : max(0, len(jobs) + 1 - self.per_session)
            ]:
                del jobs[old.id]
            jobs[job.id] = job
        self.pool.submit(self._run, job, run)
        return job

    def get(self, session: str, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(session, {}).get(job_id)

    def cancel_all(self) -> None:
        with self._lock:
            for jobs in self._jobs.values():
                for job in jobs.values():
                    job.cancel.set()

    def _run(self, job: Job, run: Callable) -> None:
        if job.cancel.is_set():
            job.status = "cancelled"
            return
        job.status, job.started = "running", time.monotonic()
        last_preview = [0.0]

        def report(done: int, total: int, loss: float | None = None, image=None) -> None:
            if job.cancel.is_set():
                raise CancelRequestedError()
            job.done, job.total = done, total
            if loss is not None:
                job.loss = float(loss)
            now = time.monotonic()
            if image is not None and now - last_preview[0] >= self.preview_every:
                last_preview[0] = now
                if callable(image):  # drawn only when shown (a costly rendering)
                    image = image()
                job.preview = encode_png(image.detach().float().clamp(0, 1).cpu()[:1])
                job.preview_version += 1

        try:
            result = run(report, job.curve) if getattr(run, "wants_curve", False) else run(report)
            if result is not None:  # a job may make a file instead (a download)
                job.result = result.detach().cpu()
                job.preview = encode_png(job.result.clamp(0, 1)[:1])
                job.preview_version += 1
            job.done = job.total = max(job.total, 1)
            job.status = "done"
        except CancelRequestedError:
            job.status = "cancelled"
        except Exception as exc:  # noqa: BLE001 - every failure reaches the page as one line
            job.status, job.error = "error", str(exc) or type(exc).__name__
        finally:
            job.finished = time.monotonic()
