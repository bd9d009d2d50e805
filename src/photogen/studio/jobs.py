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
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field

import torch
from fastapi import Request  # module level: the routes' string annotations resolve here
from fastapi.responses import JSONResponse, Response

from photogen.core.image import encode_png


class CancelRequestedError(Exception):
    """Raised inside a job's computation when its visitor cancelled it."""


class JobLimitError(Exception):
    """A visitor (or the studio) has as many jobs running and waiting as allowed."""


class InteractiveLane(Executor):
    """The interactive lane: sketch and camera frames, colour clicks, uploads, matching run on
    threads of their own, never behind a job; and while any of them is waiting or running, a
    job waits at its next step (:meth:`wait_idle`), so the cores go to what a visitor is
    looking at. ``run_in_executor(lane, ...)`` works as with any executor."""

    def __init__(self, workers: int = 2, grace: float = 0.15):
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="studio-interactive")
        self._busy = 0
        self._last = -1e9  # when the last interactive work ended
        self.grace = grace  # a drawing visitor's next frame follows within this
        self._cond = threading.Condition()

    def submit(self, fn, /, *args, **kwargs):
        with self._cond:
            self._busy += 1

        def run():
            try:
                return fn(*args, **kwargs)
            finally:
                self._done()

        try:
            return self._pool.submit(run)
        except BaseException:
            self._done()
            raise

    def _done(self) -> None:
        with self._cond:
            self._busy -= 1
            self._last = time.monotonic()
            if self._busy == 0:
                self._cond.notify_all()

    @property
    def busy(self) -> bool:
        """Interactive work is waiting, running, or ended less than ``grace`` seconds ago (a
        visitor drawing sends the next frame as soon as the last answer arrives: a job step
        started in that gap would hold the next frame up for a whole step)."""
        return self._busy > 0 or time.monotonic() - self._last < self.grace

    def wait_idle(self, timeout: float) -> bool:
        """Block until :attr:`busy` is false (True), or ``timeout`` seconds (False)."""
        end = time.monotonic() + timeout
        with self._cond:
            while self.busy:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                wait = left if self._busy else min(left, self.grace)
                self._cond.wait(wait)
            return True

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait, cancel_futures=cancel_futures)


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
    position: int = 0  # 1 = next to run, while queued
    settings: dict = field(default_factory=dict)  # what made it (the result PNG's text chunk)

    def remaining(self, now: float, steps: int | None = None) -> float | None:
        """Seconds this running job still needs (or ``steps`` of it take) at its rate so far
        (None before a step)."""
        if self.status != "running" or not self.started or not self.done:
            return None
        steps = max(0, self.total - self.done) if steps is None else steps
        return (now - self.started) / self.done * steps

    def public(self, eta: float | None = None, starts: float | None = None) -> dict:
        """What the page shows. ``eta``, ``starts``: seconds until it ends and starts
        (:meth:`JobManager.public` passes a queued job's); by default a running job's own."""
        if eta is None:
            eta = self.remaining(time.monotonic())
        eta = None if eta is None else round(eta, 1)
        return {"id": self.id, "kind": self.kind, "status": self.status, "done": self.done,
                "starts": None if starts is None else round(starts, 1),
                "position": self.position if self.status == "queued" else 0,
                "size": list(self.result.shape[-1:-3:-1]) if self.result is not None else None,
                "total": self.total, "loss": self.loss, "eta": eta, "error": self.error,
                "preview": self.preview_version if self.preview else 0,
                "settings": self.settings.get("studio", {}),
                "curve": {k: v[-400:] if isinstance(v, list) else v for k, v in self.curve.items()},
                "seconds": round((self.finished or time.monotonic()) - self.started, 1)
                if self.started else None}  # fmt: skip


def queue_eta(running: list[float | None], queued: list[float | None],
              workers: int) -> list[tuple[float | None, float | None]]:  # fmt: skip
    """When each queued job (in queue order) starts and ends, in seconds from now:
    ``running`` holds the seconds the running jobs still need, ``queued`` each queued job's
    expected duration, ``workers`` the jobs run at once. A queued job starts when the first
    worker frees; None wherever an estimate it depends on is missing."""
    free = list(running) + [0.0] * max(0, workers - len(running))
    out: list[tuple[float | None, float | None]] = []
    for expected in queued:
        known = [f for f in free if f is not None]
        # a worker's end unknown: so is the next start, unless a worker is free now
        if not known or len(known) < len(free) and min(known) > 0:
            out.append((None, None))
            continue
        start = min(known)
        end = None if expected is None else start + expected
        out.append((start, end))
        free[free.index(start)] = end
    return out


class JobManager:
    """Jobs per visitor (a session token), run on ``pool`` (its size is the concurrency).

    A visitor may have ``running + waiting`` jobs at most (1 + 2), the studio ``capacity`` in
    all; more is refused with one line. With a ``lane``, a job yields to interactive work at
    each step (for at most ``max_yield`` seconds a step, so it still progresses)."""

    def __init__(self, pool: Executor, ttl: float = 3600.0, per_session: int = 8,
                 preview_every: float = 0.25, lane: InteractiveLane | None = None,
                 waiting: int = 2, capacity: int = 16, max_yield: float = 3.0,
                 clock: Callable[[], float] = time.monotonic, workers: int = 1):  # fmt: skip
        self.pool, self.ttl, self.per_session = pool, ttl, per_session
        self.workers = workers  # the jobs ``pool`` runs at once (for the queue's ETA)
        self._took: dict[str, list[float]] = {}  # seconds the last jobs of a kind took
        self.clock = clock  # what a visitor's idle time is measured with (tests set it)
        self.preview_every = preview_every
        self.lane, self.waiting, self.capacity, self.max_yield = lane, waiting, capacity, max_yield
        self._queue: list[Job] = []
        self._jobs: dict[str, dict[str, Job]] = {}
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def new_session(self) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._jobs[token], self._seen[token] = {}, self.clock()
        return token

    def known(self, session: str | None) -> bool:
        self._expire()
        with self._lock:
            if session in self._jobs:
                self._seen[session] = self.clock()
                return True
        return False

    def _expire(self) -> None:
        now = self.clock()
        with self._lock:
            for token in [t for t, seen in self._seen.items() if now - seen > self.ttl]:
                for job in self._jobs.pop(token, {}).values():
                    job.cancel.set()
                del self._seen[token]

    def submit(self, session: str, kind: str, run: Callable, settings: dict | None = None) -> Job:
        """Queue ``run(report)``; finished jobs beyond ``per_session`` are forgotten.
        ``settings``: what the result PNG records (:meth:`Studio.settings`)."""
        job = Job(id=f"{next(self._ids)}-{secrets.token_hex(4)}", kind=kind,
                  settings=dict(settings or {}))  # fmt: skip
        with self._lock:
            jobs = self._jobs[session]
            active = [j for j in jobs.values() if j.status in ("queued", "running")]
            if len(active) >= 1 + self.waiting:
                raise JobLimitError(f"you have {len(active)} jobs running or waiting (at most "
                                    f"{1 + self.waiting}): wait for one or cancel it")  # fmt: skip
            if sum(1 for js in self._jobs.values() for j in js.values()
                   if j.status in ("queued", "running")) >= self.capacity:  # fmt: skip
                raise JobLimitError("the studio is busy with other visitors' jobs: try again soon")
            self._queue.append(job)
            self._renumber()
            for old in [j for j in jobs.values() if j.status in ("done", "error", "cancelled")][
                : max(0, len(jobs) + 1 - self.per_session)
            ]:
                del jobs[old.id]
            jobs[job.id] = job
        self.pool.submit(self._run, job, run)
        return job

    def _renumber(self) -> None:
        self._queue = [j for j in self._queue if j.status == "queued"]
        for i, j in enumerate(self._queue):
            j.position = i + 1

    def expected(self, kind: str, now: float) -> float | None:
        """Seconds a ``kind`` job is expected to take: the mean of the last ones that
        finished, else the projection of a running one (None before either exists)."""
        took = self._took.get(kind)
        if took:
            return sum(took) / len(took)
        for job in self._running():
            if job.kind == kind and job.done:
                return job.remaining(now, job.total)  # the whole job at its rate so far
        return None

    def _running(self) -> list[Job]:
        return [j for js in self._jobs.values() for j in js.values() if j.status == "running"]

    def public(self, job: Job, now: float | None = None) -> dict:
        """``job.public()`` with a queued job's start and end estimated from the running
        jobs' rates and the durations of past jobs of each kind (:func:`queue_eta`)."""
        now = time.monotonic() if now is None else now
        if job.status != "queued":
            return job.public(eta=job.remaining(now))
        with self._lock:
            running = [j.remaining(now) for j in self._running()]
            queue = [j for j in self._queue if j.status == "queued"]
            expected = [self.expected(j.kind, now) for j in queue]
        if job not in queue:
            return job.public()
        starts, ends = queue_eta(running, expected, self.workers)[queue.index(job)]
        return job.public(eta=ends, starts=starts)

    def get(self, session: str, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(session, {}).get(job_id)

    def history(self, session: str) -> list[Job]:
        """The visitor's jobs still kept, oldest first (the page's history strip)."""
        with self._lock:
            return list(self._jobs.get(session, {}).values())

    def cancel_all(self) -> None:
        with self._lock:
            for jobs in self._jobs.values():
                for job in jobs.values():
                    job.cancel.set()

    def _run(self, job: Job, run: Callable) -> None:
        if job.cancel.is_set():
            job.status = "cancelled"
            with self._lock:
                self._renumber()
            return
        job.status, job.started = "running", time.monotonic()
        with self._lock:
            self._renumber()
        last_preview = [0.0]

        def report(done: int, total: int, loss: float | None = None, image=None) -> None:
            if self.lane is not None and self.lane.busy:
                self.lane.wait_idle(self.max_yield)  # interactive work first
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
            job.status, job.finished = "done", time.monotonic()
            with self._lock:
                took = self._took.setdefault(job.kind, [])
                took[:] = [*took, job.finished - job.started][-5:]
        except CancelRequestedError:
            job.status = "cancelled"
        except Exception as exc:  # noqa: BLE001 - every failure reaches the page as one line
            job.status, job.error = "error", str(exc) or type(exc).__name__
        finally:
            job.finished = job.finished or time.monotonic()


def add_job_routes(app, studio) -> None:
    """A visitor's jobs over HTTP: status, cancel, the preview, the result (full resolution,
    lossless); another visitor's job is a 404, as an unknown one."""
    from photogen.studio.context import RefusedError

    def job_of(request: Request, job_id: str):
        job = studio.jobs.get(studio.session_of(request), job_id)
        if job is None:  # unknown, or another visitor's
            raise RefusedError(404, "no such job")
        return job

    @app.get("/api/jobs")
    def job_history(request: Request) -> JSONResponse:
        return JSONResponse(
            [studio.jobs.public(j) for j in studio.jobs.history(studio.session_of(request))]
        )

    @app.post("/api/settings")
    async def settings_of(request: Request) -> JSONResponse:
        """The settings a dropped photogen PNG carries, for the page to fill a tab's form (the
        body is the PNG; nothing of it is kept)."""
        from photogen.core.provenance import read_settings

        data = b""
        async for chunk in request.stream():
            data += chunk
            if len(data) > studio.config.max_upload:
                raise RefusedError(413, f"larger than {studio.config.max_upload:,} bytes")
        try:
            found = read_settings(data)
        except Exception:  # noqa: BLE001 - any undecodable upload: one line for the page
            raise RefusedError(422, "not a PNG photogen wrote") from None
        if not found:
            raise RefusedError(422, "this picture carries no photogen settings")
        made = found.get("studio")
        if not isinstance(made, dict) or not isinstance(made.get("fields"), dict):
            argv = found.get("argv")
            if isinstance(argv, list):  # the CLI's: say how to re-run it
                raise RefusedError(422, "made by the command line: photogen rerun FILE.png "
                                   f"(photogen {' '.join(map(str, argv))})")  # fmt: skip
            raise RefusedError(422, "this picture carries no studio settings")
        fields = {str(k): v for k, v in made["fields"].items()
                  if isinstance(v, str | int | float | bool)}  # fmt: skip
        return JSONResponse({"tab": str(made.get("tab", "")), "fields": fields,
                             "inputs": made.get("inputs", {}), "device": found.get("device"),
                             "threads": found.get("threads")})  # fmt: skip

    @app.get("/api/jobs/{job_id}")
    def job_status(request: Request, job_id: str) -> JSONResponse:
        return JSONResponse(studio.jobs.public(job_of(request, job_id)))

    @app.post("/api/jobs/{job_id}/cancel")
    def job_cancel(request: Request, job_id: str) -> JSONResponse:
        job = job_of(request, job_id)
        job.cancel.set()
        return JSONResponse(job.public())

    @app.get("/api/jobs/{job_id}/preview.png")
    def job_preview(request: Request, job_id: str) -> Response:
        job = job_of(request, job_id)
        if job.preview is None:
            raise RefusedError(404, "no picture yet")
        return Response(job.preview, media_type="image/png", headers={"cache-control": "no-store"})

    @app.get("/api/jobs/{job_id}/result.png")
    def job_result(request: Request, job_id: str) -> Response:
        job = job_of(request, job_id)
        if job.result is None:
            raise RefusedError(404, "not finished")
        png = encode_png(job.result.clamp(0, 1), settings=job.settings)  # full size, lossless
        disposition = f'attachment; filename="photogen-{job.kind}-{job.id}.png"'
        return Response(png, media_type="image/png", headers={"content-disposition": disposition})
