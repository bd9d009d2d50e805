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
import base64
import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from typing import Annotated

from fastapi import FastAPI, File, Form, Request, UploadFile, WebSocket
from fastapi.responses import HTMLResponse, JSONResponse, Response

from photogen.core.image import ImageError, decode_image, encode_png, read_image
from photogen.core.samples import available_samples
from photogen.gatys.pyramid import resize
from photogen.studio.colorize import ColorizeService, add_colorize_routes, find_colorizers
from photogen.studio.guard import Guard, is_loopback
from photogen.studio.jobs import InteractiveLane, JobLimitError, JobManager
from photogen.studio.live import LiveEngine, add_live_routes
from photogen.studio.matching import MatchService
from photogen.studio.methods import (
    find_pixelcnn_models,
    pixelcnn_job,
    playground_job,
    style_job,
    texture_job,
)
from photogen.studio.sketch import SketchEngine, example_drawing, find_models
from photogen.studio.sketch_socket import serve_sketch

STATIC = {  # URL name -> (package file, media type): the only files ever served
    "studio.js": ("studio.js", "text/javascript; charset=utf-8"),
    "studio.css": ("studio.css", "text/css; charset=utf-8"),
    "live.js": ("live.js", "text/javascript; charset=utf-8"),
}
SESSION = "photogen_session"


@dataclass
class StudioConfig:
    """Settings of one studio server.

    Attributes:
        host: the address the server binds; a loopback address turns the Host check on.
        models: run folders (or folders of runs) offered besides the bundled model.
        db: a tiny-images database (``photogen match build``) for the matching tab.
        pixelcnn: PixelCNN run folders (``photogen pixelcnn train``) for the completion tab.
        colorizers: colorizer run folders or weight files besides lite (and the official
            networks already in the cache).
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
    """

    host: str = "127.0.0.1"
    models: list[str] = field(default_factory=list)
    db: str | None = None
    pixelcnn: list[str] = field(default_factory=list)
    colorizers: list[str] = field(default_factory=list)
    device: str = "cpu"
    auth: str | None = None
    allowed_hosts: list[str] = field(default_factory=list)
    engine: str | None = None  # the Live tab's inference engine (None: live.default_engine)
    workers: int = 2
    job_workers: int = 1
    two_lanes: bool = True  # False: frames queue behind jobs (the old studio; benchmarks)
    max_pixels: int = 4096 * 4096
    max_upload: int = 32 * 2**20


def _package_file(name: str) -> bytes:
    return (resources.files("photogen.studio") / "static" / name).read_bytes()


def create_app(config: StudioConfig | None = None, engine: SketchEngine | None = None):
    """The studio as an ASGI app (FastAPI), wrapped in :class:`Guard`."""
    config = config or StudioConfig()
    engine = engine or SketchEngine(find_models(config.models), config.device)
    if config.workers < 1 or config.job_workers < 1:
        raise ValueError("workers and job_workers must be >= 1")
    pool = ThreadPoolExecutor(max_workers=config.job_workers, thread_name_prefix="studio-job")
    # frames, clicks: never behind a job
    lane = InteractiveLane(config.workers) if config.two_lanes else pool
    jobs = JobManager(pool, lane=lane if config.two_lanes else None)
    matcher = MatchService(config.db) if config.db else None
    pixelcnns = find_pixelcnn_models(config.pixelcnn)
    colorizer = ColorizeService(find_colorizers(config.colorizers), engine.device)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        jobs.cancel_all()  # a running job stops at its next step
        pool.shutdown(wait=False, cancel_futures=True)
        lane.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="photogen studio", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)  # fmt: skip
    app.state.engine, app.state.pool, app.state.jobs = engine, pool, jobs

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

    @app.get("/api/sketch/models")
    def sketch_models() -> JSONResponse:
        return JSONResponse([m.public() for m in engine.models.values()])

    @app.get("/api/sketch/example")
    def sketch_example(model: str, seed: int = 7) -> Response:
        if model not in engine.models:
            return JSONResponse({"error": f"unknown model {model!r}"}, status_code=404)
        png = encode_png(example_drawing(engine.models[model], seed))
        return Response(png, media_type="image/png")

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

    def session_of(request: Request) -> str:
        token = request.cookies.get(SESSION)
        if not jobs.known(token):
            raise RefusedError(401, "no session (expired?): reload the page")
        return token

    async def read_upload(upload: UploadFile | None, name: str, keep_alpha: bool = False):
        if upload is None:
            return None
        data = await upload.read(config.max_upload + 1)
        if len(data) > config.max_upload:
            raise RefusedError(413, f"{name}: larger than {config.max_upload:,} bytes")
        image = await asyncio.to_thread(decode_image, data, upload.filename or name,
                                        config.max_pixels, 8, keep_alpha)  # fmt: skip
        return image

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

    @app.post("/api/jobs/style")
    async def new_style_job(
        request: Request,
        content: Annotated[UploadFile, File()],
        style: Annotated[UploadFile, File()],
        size: Annotated[int, Form()] = 256,
        steps: Annotated[int, Form()] = 100,
        preserve_colors: Annotated[bool, Form()] = False,
        seed: Annotated[int, Form()] = 0,
    ) -> JSONResponse:
        session = session_of(request)
        c, s = await read_upload(content, "content"), await read_upload(style, "style")
        run = style_job(c, s, size, steps, preserve_colors, seed=seed, device=engine.device)
        return JSONResponse(jobs.submit(session, "style", run).public())

    @app.post("/api/jobs/texture")
    async def new_texture_job(
        request: Request,
        source: Annotated[UploadFile, File()],
        mask: Annotated[UploadFile | None, File()] = None,
        method: Annotated[str, Form()] = "gatys",
        size: Annotated[int, Form()] = 192,
        steps: Annotated[int, Form()] = 100,
        tileable: Annotated[bool, Form()] = False,
        seed: Annotated[int, Form()] = 0,
    ) -> JSONResponse:
        session = session_of(request)
        src, m = await read_upload(source, "source"), await read_upload(mask, "mask")
        known = None
        if m is not None:
            if m.shape[-2:] != src.shape[-2:]:
                raise ValueError(
                    f"the mask is {m.shape[-1]}x{m.shape[-2]}, the photo "
                    f"{src.shape[-1]}x{src.shape[-2]}"
                )
            known = m[0].mean(0) > 0.5  # white = keep, black = fill
            if bool(known.all()):
                raise ValueError("the mask marks nothing to fill (paint the holes)")
        run = texture_job(src, method, size, steps, tileable, known, seed, engine.device)
        return JSONResponse(jobs.submit(session, "texture", run).public())

    @app.post("/api/jobs/playground")
    async def new_playground_job(
        request: Request,
        dataset: Annotated[str, Form()] = "circle",
        noise: Annotated[float, Form()] = 0.1,
        hidden: Annotated[str, Form()] = "4,4",
        activation: Annotated[str, Form()] = "tanh",
        l2: Annotated[float, Form()] = 0.0,
        lr: Annotated[float, Form()] = 0.03,
        epochs: Annotated[int, Form()] = 200,
        seed: Annotated[int, Form()] = 0,
    ) -> JSONResponse:
        session = session_of(request)
        run = playground_job(dataset, noise, hidden, activation, l2, lr, epochs, seed=seed)
        return JSONResponse(jobs.submit(session, "playground", run).public())

    @app.get("/api/match/info")
    def match_info() -> JSONResponse:
        return JSONResponse({"available": False} if matcher is None
                            else {"available": True, **matcher.info()})  # fmt: skip

    @app.post("/api/match")
    async def match(
        request: Request, photo: Annotated[UploadFile, File()], k: Annotated[int, Form()] = 16
    ) -> JSONResponse:
        session_of(request)
        if matcher is None:
            raise RefusedError(404, "no database: start the studio with --db TINY_DB")
        image = await read_upload(photo, "photo")
        result = await asyncio.get_running_loop().run_in_executor(lane, matcher.match, image, k)
        for key in ("montage", "grey", "colourised"):
            result[key] = base64.b64encode(result[key]).decode()
        return JSONResponse(result)

    add_colorize_routes(app, colorizer, lane, jobs, read_upload, session_of)

    @app.get("/api/pixelcnn/models")
    def pixelcnn_models() -> JSONResponse:
        return JSONResponse([{"name": k, "side": v["side"], "sample": v["sample"]}
                             for k, v in pixelcnns.items()])  # fmt: skip

    @app.post("/api/jobs/pixelcnn")
    async def new_pixelcnn_job(
        request: Request,
        image: Annotated[UploadFile, File()],
        model: Annotated[str, Form()],
        box: Annotated[str, Form()],
        n: Annotated[int, Form()] = 4,
        size: Annotated[int, Form()] = 64,
        temperature: Annotated[float, Form()] = 1.0,
        seed: Annotated[int, Form()] = 0,
    ) -> JSONResponse:
        session = session_of(request)
        if model not in pixelcnns:
            raise RefusedError(404, f"no PixelCNN {model!r}: start the studio with --pixelcnn RUN")
        parts = box.split(",")
        if len(parts) != 4 or not all(p.strip().lstrip("-").isdigit() for p in parts):
            raise ValueError(f"box {box!r}: expected x,y,w,h")
        rect = tuple(int(p) for p in parts)
        picture = await read_upload(image, "image")
        run = pixelcnn_job(pixelcnns[model]["path"], picture, rect, n, size, temperature, seed)
        return JSONResponse(jobs.submit(session, "pixelcnn", run).public())

    def job_of(request: Request, job_id: str):
        job = jobs.get(session_of(request), job_id)
        if job is None:  # unknown, or another visitor's
            raise RefusedError(404, "no such job")
        return job

    @app.get("/api/jobs/{job_id}")
    def job_status(request: Request, job_id: str) -> JSONResponse:
        return JSONResponse(job_of(request, job_id).public())

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
        png = encode_png(job.result.clamp(0, 1))  # full resolution, lossless
        disposition = f'attachment; filename="photogen-{job.kind}-{job.id}.png"'
        return Response(png, media_type="image/png", headers={"content-disposition": disposition})

    @app.websocket("/ws/sketch")
    async def sketch_socket(ws: WebSocket) -> None:
        await serve_sketch(ws, engine, lane, config.max_pixels)

    add_live_routes(app, LiveEngine(engine, config.engine), lane, config.max_pixels)

    allowed = {config.host.lower(), *(h.lower() for h in config.allowed_hosts)}
    return Guard(app, local_only=is_loopback(config.host), auth=config.auth,
                 allowed_hosts=allowed, max_body=config.max_upload + 2**20)  # fmt: skip


class RefusedError(Exception):
    """A request the studio answers with ``status`` and one line for the page."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


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
