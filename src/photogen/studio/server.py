"""``photogen studio``: the local web page (FastAPI + a plain canvas page, no build step).

Why not Gradio: measured here, a ``gr.Sketchpad`` took 1.8-3.4 s from a stroke to the shown
output (the editor exports and uploads the whole canvas before the function runs); a plain
``<canvas>`` sending small PNG frames over one WebSocket, newest frame wins, stays inside the
250 ms a drawing tool needs (see benchmarks/studio.py and the browser test).

Safety: bound to 127.0.0.1 unless asked; while bound to a loopback address, requests whose
Host header is not a local name are refused (DNS rebinding), and WebSockets whose Origin is
not this page are refused (another site open in the same browser cannot drive the server);
``auth`` (``USER:PASS``) puts HTTP Basic authentication on every route. The page's files are a
fixed list in the package: no request names a path on the server. Jobs run on one worker
thread (``StudioConfig.job_workers``) and yield at each step to the interactive lane
(``StudioConfig.workers`` threads), so neither one visitor nor one job starves the others.
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from photogen.core.image import ImageError, decode_image, encode_png, read_image
from photogen.core.resample import resize
from photogen.core.samples import available_samples
from photogen.studio.colorize import ColorizeService, add_colorize_routes, find_colorizers
from photogen.studio.completion import add_completion_routes, find_pixelcnn_models
from photogen.studio.context import RefusedError, Studio
from photogen.studio.dream import add_dream_routes
from photogen.studio.guard import Guard, is_loopback
from photogen.studio.jobs import InteractiveLane, JobLimitError, JobManager, add_job_routes
from photogen.studio.live import LiveEngine, add_live_routes
from photogen.studio.matching import MatchService, add_matching_routes
from photogen.studio.playground import add_playground_routes
from photogen.studio.sketch import SketchEngine, find_models
from photogen.studio.sketch_socket import add_sketch_routes
from photogen.studio.style import FastStyles, add_style_routes, fast_models
from photogen.studio.texture import add_texture_routes

# The page's modules: one per tab, and what they share (studio.js imports them all).
MODULES = ("studio", "common", "tabs", "sketch", "style", "dream", "texture", "colorize",
           "completion", "matching", "playground", "history", "live")  # fmt: skip
STATIC = {  # URL name -> (package file, media type): the only files ever served
    **{f"{m}.js": (f"{m}.js", "text/javascript; charset=utf-8") for m in MODULES},
    "studio.css": ("studio.css", "text/css; charset=utf-8"),
}
SESSION = "photogen_session"


@dataclass
class StudioConfig:
    """Settings of one studio server.

    Attributes:
        host: the address the server binds; a loopback address turns the Host check on.
        models: run folders (or folders of runs) offered besides the bundled model.
        db: a tiny-images database (``photogen match build``) for the matching tab.
        db_scheduler: a Dask scheduler address (or ``local``) whose workers each search a
            part of ``db`` (``photogen match query --scheduler``); None: searched here.
        pixelcnn: PixelCNN run folders (``photogen pixelcnn train``) for the completion tab.
        colorizers: colorizer run folders or weight files besides lite (and the official
            networks already in the cache).
        style_models: fast style network runs (``photogen stylize train``) besides the
            bundled ones, for the Style tab's fast mode.
        device: where the networks run.
        auth: ``"USER:PASS"`` for HTTP Basic authentication, or None (neither part empty).
        allowed_hosts: Host header names accepted besides ``host`` when bound beyond
            loopback (the names the users type: ``studio.lan``); on loopback only localhost.
        workers: threads of the interactive lane (frames, clicks, uploads of several visitors
            answered at once; safe because inference keeps no per-call state in the shared
            models: temperature, dropout generators and flow state are per call or thread).
        job_workers: heavy jobs run at the same time (1 on a CPU: they use every core already).
        two_lanes: interactive work (frames, clicks, uploads) on its own threads, and jobs
            yielding to it between steps; False puts it behind the jobs (for comparison).
        max_pixels: the largest drawing or upload accepted (pixels).
        max_upload: the largest upload accepted (bytes).
        precision: ``fp32`` or ``bf16`` for every network the studio runs (the CLI resolves
            ``--precision auto`` before; :mod:`photogen.core.precision`).
    """

    host: str = "127.0.0.1"
    models: list[str] = field(default_factory=list)
    db: str | None = None
    db_scheduler: str | None = None
    pixelcnn: list[str] = field(default_factory=list)
    colorizers: list[str] = field(default_factory=list)
    style_models: list[str] = field(default_factory=list)  # fast style runs besides the bundled
    device: str = "cpu"
    auth: str | None = None
    allowed_hosts: list[str] = field(default_factory=list)
    engine: str | None = None  # the Live tab's inference engine (None: live.default_engine)
    workers: int = 2
    job_workers: int = 1
    two_lanes: bool = True  # False: frames queue behind jobs (the old studio; benchmarks)
    max_pixels: int = 4096 * 4096
    max_upload: int = 32 * 2**20
    precision: str = "fp32"


def _package_file(name: str) -> bytes:
    return (resources.files("photogen.studio") / "static" / name).read_bytes()


def create_app(config: StudioConfig | None = None, engine: SketchEngine | None = None):
    """The studio as an ASGI app (FastAPI), wrapped in :class:`Guard`."""
    config = config or StudioConfig()
    if config.precision not in ("fp32", "bf16"):
        raise ValueError(f"precision must be fp32 or bf16 here, got {config.precision!r}")
    engine = engine or SketchEngine(find_models(config.models), config.device, config.precision)
    if config.workers < 1 or config.job_workers < 1:
        raise ValueError("workers and job_workers must be >= 1")
    pool = ThreadPoolExecutor(max_workers=config.job_workers, thread_name_prefix="studio-job")
    # frames, clicks: never behind a job
    lane = InteractiveLane(config.workers) if config.two_lanes else pool
    jobs = JobManager(pool, lane=lane if config.two_lanes else None, workers=config.job_workers)
    colorizer = ColorizeService(find_colorizers(config.colorizers), engine.device,
                                config.precision)  # fmt: skip
    studio = Studio(config, lane, jobs, engine.device, SESSION)
    matcher = MatchService(config.db, config.db_scheduler) if config.db else None

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        if matcher is not None:
            matcher.close()  # a cluster's client, when there is one
        jobs.cancel_all()  # a running job stops at its next step
        pool.shutdown(wait=False, cancel_futures=True)
        lane.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="photogen studio", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)  # fmt: skip
    app.state.engine, app.state.pool, app.state.jobs = engine, pool, jobs
    app.state.studio, app.state.matcher = studio, matcher

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request) -> HTMLResponse:
        page = HTMLResponse(_package_file("index.html"), headers={"cache-control": "no-store"})
        if not jobs.known(request.cookies.get(SESSION)):  # each visitor's jobs are their own
            page.set_cookie(SESSION, jobs.new_session(), httponly=True, samesite="strict")
        return page

    @app.get("/static/{name}")
    def static(name: str) -> Response:
        if name not in STATIC:  # a fixed list: no path from the client reaches the disk
            return Response("not found", status_code=404, media_type="text/plain")
        filename, media = STATIC[name]
        return Response(_package_file(filename), media_type=media)

    @app.get("/api/samples")
    def samples() -> JSONResponse:
        return JSONResponse(sorted(available_samples()))

    @app.get("/api/samples/{name}.png")
    def sample(name: str, side: int = 384) -> Response:
        found = available_samples()  # names the server chose; the client only picks one
        if name not in found:
            raise RefusedError(404, f"no sample {name!r}")
        image = read_image(found[name])
        h, w = image.shape[-2:]
        scale = min(1.0, max(16, min(side, 1024)) / max(h, w))
        small = resize(image, (max(8, round(h * scale)), max(8, round(w * scale))))
        return Response(encode_png(small), media_type="image/png")

    @app.post("/api/upload")
    async def upload(request: Request, side: int = 256) -> Response:
        """An uploaded picture, checked as files are (truncated, not an image, too many pixels,
        too small) and returned as a ``side``-pixel PNG; errors are one JSON line for the page."""
        data = b""
        async for chunk in request.stream():
            data += chunk
            if len(data) > config.max_upload:
                return JSONResponse({"error": f"upload larger than {config.max_upload:,} bytes"},
                                    status_code=413)  # fmt: skip
        loop = asyncio.get_running_loop()
        try:
            png = await loop.run_in_executor(lane, _normalise_upload, data, side, config)
        except (ImageError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)
        return Response(png, media_type="image/png")

    @app.exception_handler(RefusedError)
    async def refused(request: Request, exc: RefusedError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    @app.exception_handler(JobLimitError)
    async def too_many(request: Request, exc: JobLimitError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=429)

    @app.exception_handler(ImageError)
    async def bad_image(request: Request, exc: ImageError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=422)

    @app.exception_handler(ValueError)
    async def bad_value(request: Request, exc: ValueError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=422)

    add_sketch_routes(app, studio, engine)
    fast = FastStyles(fast_models(config.style_models), engine.device, config.precision)
    add_live_routes(app, studio, LiveEngine(engine, config.engine, fast))
    add_style_routes(app, studio, fast)
    add_dream_routes(app, studio)
    add_texture_routes(app, studio)
    add_colorize_routes(app, studio, colorizer)
    add_completion_routes(app, studio, find_pixelcnn_models(config.pixelcnn))
    add_matching_routes(app, studio, matcher)
    add_playground_routes(app, studio)

    add_job_routes(app, studio)

    allowed = {config.host.lower(), *(h.lower() for h in config.allowed_hosts)}
    return Guard(app, local_only=is_loopback(config.host), auth=config.auth,
                 allowed_hosts=allowed, max_body=config.max_upload + 2**20)  # fmt: skip


def _normalise_upload(data: bytes, side: int, config: StudioConfig) -> bytes:
    """The upload checked and scaled so its longer side is ``side``, its aspect ratio kept
    (the page letterboxes it onto the canvas; a square resize squashed it)."""
    import torch.nn.functional as F

    if not 8 <= side <= 2048:
        raise ValueError(f"side must be 8..2048, got {side}")
    image = decode_image(data, "upload", max_pixels=config.max_pixels, min_side=8)
    h, w = image.shape[-2:]
    s = side / max(h, w)
    size = (max(1, round(h * s)), max(1, round(w * s)))
    mode = "area" if s < 1 else "bicubic"
    return encode_png(F.interpolate(image, size=size, mode=mode).clamp(0, 1))
