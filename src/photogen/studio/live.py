"""The Live tab ("Learning to See", Memo Akten 2017): the browser's camera through pix2pix,
or through a fast style network (Johnson et al. 2016; models named ``style:NAME``).

The page sends the newest camera frame (a JPEG, centre-cropped to a square) over a WebSocket
and only when the previous answer has arrived, and the server computes only the newest frame
it holds (``sketch_socket.serve_newest``): when the model is slower than the camera, frames
are dropped, never queued, so the lag cannot build up. Each frame is made into the model's
input the way its training pairs were (edges, grey, blur or as it is), run through the
generator with a fixed dropout mask (the same picture for the same input) or the style network
(the frame as it is), both compiled for the chosen engine, optionally blended
with the previous output along the optical flow, and both the input shown and the output go
back as JPEGs with the milliseconds the server spent.
"""

from __future__ import annotations

import base64
import importlib.util
import threading
import time

import torch
from fastapi import WebSocket
from fastapi.responses import JSONResponse

from photogen.core.image import decode_image, encode_jpeg
from photogen.core.temporal import TemporalBlend, flow_grey
from photogen.faststyle.video import FastStyleFrames
from photogen.pix2pix.data import from_model
from photogen.pix2pix.video import TRANSFORMS, Pix2PixFrames, model_input
from photogen.studio.context import Studio
from photogen.studio.sketch import SIDE, SketchEngine
from photogen.studio.sketch_socket import frame_reply, serve_newest
from photogen.studio.style import FastStyles

MAX_FRAME = 2 * 2**20  # bytes of one camera frame message (a 256 px JPEG is ~15 kB)
STYLE = "style:"  # the prefix of a style network's name among the live models


def default_engine() -> str:
    """ONNX Runtime when installed (measured 2x PyTorch eager on the bundled U-Net at 256 px
    on 2 cores), else PyTorch."""
    return "onnxruntime" if importlib.util.find_spec("onnxruntime") else "torch"


class LiveEngine:
    """The sketch tab's generators and the fast style networks, compiled once each for
    256x256 camera frames (thread-safe)."""

    def __init__(self, sketch: SketchEngine, engine: str | None = None,
                 styles: FastStyles | None = None):  # fmt: skip
        self.sketch, self.styles = sketch, styles
        self.engine = engine or default_engine()
        self._frames: dict[str, Pix2PixFrames] = {}
        self._styled: dict[str, FastStyleFrames] = {}
        self._lock = threading.Lock()

    def _precision(self, wanted: str) -> str:
        """The studio's precision where the live engine has it (ONNX Runtime: float32)."""
        from photogen.core.precision import BF16_ENGINES

        return wanted if self.engine in BF16_ENGINES else "fp32"

    def models(self) -> list[dict]:
        """What the page offers: the generators, then the style networks."""
        out = [m.public() for m in self.sketch.models.values()]
        for name in self.styles.sources if self.styles is not None else ():
            out.append({"name": STYLE + name, "kind": "style", "label": f"style: {name}"})
        return out

    def style(self, name: str) -> FastStyleFrames:
        if self.styles is None:
            raise ValueError("no style networks in this studio")
        with self._lock:
            if name not in self._styled:
                model = self.styles.model(name)  # raises on an unknown name
                self._styled[name] = FastStyleFrames(
                    model, temporal=False, engine=self.engine,
                    precision=self._precision(self.styles.precision),
                )  # fmt: skip
            return self._styled[name]

    def frames(self, model: str) -> Pix2PixFrames:
        with self._lock:
            if model not in self._frames:
                translator = self.sketch.translator(model)  # raises on an unknown name
                self._frames[model] = Pix2PixFrames(
                    translator, SIDE, temporal=False, keep_size=False, engine=self.engine,
                    precision=self._precision(translator.precision),
                )  # fmt: skip
            return self._frames[model]

    def translate(
        self, model: str, transform: str, image: torch.Tensor, blend: TemporalBlend | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(input shown, output)``, both ``(1, 3, 256, 256)`` in [0, 1]."""
        if transform not in TRANSFORMS:
            raise ValueError(f"transform must be one of {', '.join(TRANSFORMS)}")
        if model.startswith(STYLE):  # a style network sees the frame as it is
            styled = self.style(model[len(STYLE) :])
            shown = model_input(image, SIDE, "none")[0]
            on = self.styles.device if self.engine == "torch" else torch.device("cpu")
            out = styled.stylize(shown.to(on)).cpu()
        else:
            frames = self.frames(model)
            shown, x = model_input(image, SIDE, transform)
            out = from_model(frames.run(x.to(frames.translator.device)).float().cpu())
        if blend is not None:
            out = blend.step(flow_grey(shown), out)
        return shown, out


class LiveSession:
    """One browser's camera: its own temporal blend."""

    def __init__(self, engine: LiveEngine):
        self.engine = engine
        self.blend = TemporalBlend(0.6)

    def reply(self, text: str, max_pixels: int) -> dict:
        """One message ``{"id", "model", "transform", "smooth", "jpeg": base64}`` ->
        ``{"id", "input", "output", "ms"}`` (JPEGs in base64) or ``{"id", "error"}``."""

        def handle(request: dict, data: bytes) -> dict:
            return self._translate(request, data, max_pixels)

        return frame_reply(text, MAX_FRAME, "camera frame", "jpeg", handle)

    def _translate(self, request: dict, data: bytes, max_pixels: int) -> dict:
        image = decode_image(data, "camera frame", max_pixels=max_pixels, min_side=8)
        t0 = time.perf_counter()
        blend = self.blend if request.get("smooth") else None
        if blend is None:
            self.blend.prev_out = None  # a later switch to smooth starts afresh
        shown, out = self.engine.translate(str(request["model"]),
                                           str(request.get("transform", "none")), image,
                                           blend)  # fmt: skip
        ms = (time.perf_counter() - t0) * 1000
        return {
            "input": base64.b64encode(encode_jpeg(shown)).decode(),
            "output": base64.b64encode(encode_jpeg(out)).decode(),
            "ms": round(ms, 1),
        }


def add_live_routes(app, studio: Studio, live: LiveEngine) -> None:
    """The tab's two routes: what it can offer, and the camera WebSocket (one
    :class:`LiveSession` per connection, newest frame wins)."""

    @app.get("/api/live/info")
    def live_info() -> JSONResponse:
        return JSONResponse({"models": live.models(), "transforms": list(TRANSFORMS),
                             "engine": live.engine})  # fmt: skip

    @app.websocket("/ws/live")
    async def live_socket(ws: WebSocket) -> None:
        session = LiveSession(live)
        max_pixels = studio.config.max_pixels
        await serve_newest(ws, lambda text: session.reply(text, max_pixels), studio.lane)
