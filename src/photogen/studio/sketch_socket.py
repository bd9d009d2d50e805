"""The sketch tab's routes and WebSocket: drawings in, pictures out, the newest waiting
drawing wins.

Frames ``{"id", "model", "png": base64}`` in; ``{"id", "png", "ms", "dropped"}`` or
``{"id", "error"}`` out. Only the newest waiting frame is computed: frames that arrive while
one is being translated replace each other (counted in ``dropped``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from concurrent.futures import Executor

from fastapi import WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response

from photogen.core.image import ImageError, encode_png
from photogen.core.weights import WeightsError
from photogen.studio.context import Studio
from photogen.studio.sketch import SketchEngine, example_drawing

MAX_MESSAGE = 4 * 2**20  # bytes of one WebSocket message (a 256 px drawing is ~10 kB)


async def serve_sketch(
    ws: WebSocket, engine: SketchEngine, pool: Executor, max_pixels: int
) -> None:
    """Frames ``{"id", "model", "png": base64}`` in; ``{"id", "png", "ms", "dropped"}`` or
    ``{"id", "error"}`` out. Only the newest waiting frame is computed: frames that arrive
    while one is being translated replace each other (counted in ``dropped``)."""
    await serve_newest(ws, lambda text: _sketch_reply(engine, text, max_pixels), pool)


async def serve_newest(ws: WebSocket, handle, pool: Executor) -> None:
    """A WebSocket where each text message is answered by ``handle(text) -> dict`` (run on
    ``pool``); messages that arrive while one is handled replace each other: only the newest
    is handled, the others are counted in the reply's ``dropped`` (never queued)."""
    await ws.accept()
    newest: dict = {"frame": None, "dropped": 0}
    ready = asyncio.Event()

    async def receive() -> None:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000))
            text = message.get("text")
            if text is None:  # a binary frame: say so, keep the socket
                await ws.send_text(json.dumps({"id": None, "dropped": newest["dropped"],
                                               "error": "binary frames are not accepted: "
                                               "send a JSON text frame"}))  # fmt: skip
                continue
            if newest["frame"] is not None:
                newest["dropped"] += 1
            newest["frame"] = text
            ready.set()

    async def work() -> None:
        loop = asyncio.get_running_loop()
        while True:
            await ready.wait()
            ready.clear()
            text, newest["frame"] = newest["frame"], None
            if text is None:
                continue
            reply = await loop.run_in_executor(pool, handle, text)
            reply["dropped"] = newest["dropped"]
            await ws.send_text(json.dumps(reply))

    tasks = [asyncio.create_task(receive()), asyncio.create_task(work())]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            exc = task.exception()
            if exc is not None and not isinstance(exc, WebSocketDisconnect | RuntimeError):
                raise exc
    finally:
        for task in tasks:
            task.cancel()


def frame_reply(text: str, limit: int, what: str, field: str, handle) -> dict:
    """One WebSocket frame ``{"id", FIELD: base64, ...}``, start to end, on the worker thread:
    size check, JSON, base64, then ``handle(request, data) -> dict`` (the reply's other
    fields); every failure becomes ``{"id", "error"}`` with one line for the page."""
    frame_id = None
    try:
        if len(text) > limit:
            raise ValueError(f"{what} too large ({len(text):,} bytes; at most {limit:,})")
        try:
            request = json.loads(text)
        except ValueError:
            raise ValueError(f"the {what} message is not JSON") from None
        if not isinstance(request, dict):
            raise ValueError(f"the {what} message must be a JSON object with {field!r}, got "
                             f"{type(request).__name__}")  # fmt: skip
        frame_id = request.get("id")
        if not isinstance(frame_id, int | str | type(None)):
            frame_id = None
        if not isinstance(request.get(field), str):
            raise ValueError(f"the {what} message has no {field!r} field (base64 text)")
        try:
            data = base64.b64decode(request[field], validate=True)
        except binascii.Error:
            raise ValueError(f"the {what} is not base64 data") from None
        reply = handle(request, data)
    except KeyError as exc:
        return {"id": frame_id, "error": f"the {what} message has no {exc.args[0]!r} field"}
    except (ImageError, WeightsError, ValueError, TypeError) as exc:
        return {"id": frame_id, "error": str(exc) or type(exc).__name__}
    return {"id": frame_id, **reply}


def _sketch_reply(engine: SketchEngine, text: str, max_pixels: int) -> dict:
    def handle(request: dict, data: bytes) -> dict:
        png, ms = engine.translate_png(str(request["model"]), data, max_pixels)
        return {"png": base64.b64encode(png).decode(), "ms": round(ms, 1)}

    return frame_reply(text, MAX_MESSAGE, "drawing", "png", handle)


def add_sketch_routes(app, studio: Studio, engine: SketchEngine) -> None:
    """The tab's models (palettes, never paths), a drawing to start from, and the socket."""

    @app.get("/api/sketch/models")
    def sketch_models() -> JSONResponse:
        return JSONResponse([m.public() for m in engine.models.values()])

    @app.get("/api/sketch/example")
    def sketch_example(model: str, seed: int = 7) -> Response:
        if model not in engine.models:
            return JSONResponse({"error": f"unknown model {model!r}"}, status_code=404)
        png = encode_png(example_drawing(engine.models[model], seed))
        return Response(png, media_type="image/png")

    @app.websocket("/ws/sketch")
    async def sketch_socket(ws: WebSocket) -> None:
        await serve_sketch(ws, engine, studio.lane, studio.config.max_pixels)
