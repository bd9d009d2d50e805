"""The studio's colorize tab: automatic colorization of an uploaded photo at full resolution
(Zhang et al. 2016) by the best installed colorizer, and the user's colour hints (clicked
points and painted strokes) propagated into their regions for every model
(:mod:`photogen.colorize.propagate`); a hint-taking network also receives them. The official
models that are not installed are offered as downloads (a job: progress, cancel, sha256).
Calls ``photogen.colorize.pipeline``."""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Annotated

import torch
from fastapi import File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from photogen.core.color import rgb_to_lab
from photogen.core.image import encode_png
from photogen.studio.context import Studio

OFFICIAL = ("siggraph17", "eccv16")
# the released files' sizes, shown before a download starts
DOWNLOAD_MB = {"eccv16": 129, "siggraph17": 137}
AUTO_CACHE = 4  # automatic ab results kept (photo x model x temperature), for quick clicks


def find_colorizers(runs: list[str] = ()) -> dict[str, str]:
    """``name -> spec`` for :func:`photogen.colorize.pipeline.load_model`: the installed models
    (bundled and cached official ones, best first as ``auto`` chooses) and run folders or
    weight files."""
    from photogen.colorize.pipeline import AUTO_ORDER, installed_models

    have = installed_models()
    found = {name: name for name in AUTO_ORDER if name in have}
    found.update({name: name for name in have if name not in found})
    for spec in runs:
        path = Path(spec)
        found[path.stem if path.is_file() else path.name] = str(path)
    return found


def download_job(name: str, on_done):
    """A job (``run(report)``) that downloads the official colorizer ``name`` into the
    weights cache, reporting bytes; cancel stops it and leaves nothing behind."""
    from photogen.core import weights as W

    if name not in OFFICIAL:
        raise ValueError(f"{name!r} is not a downloadable colorizer ({', '.join(OFFICIAL)})")
    entry = W.REGISTRY[name]

    def run(report):
        def progress(done: int, total: int | None) -> None:
            report(done, total or max(done, DOWNLOAD_MB[name] << 20))

        W.download(entry, progress=progress)
        on_done(name)
        return None

    return run


class ColorizeService:
    """Colorizers loaded once by name; the automatic colours of the last few photos kept, so
    that a click re-solves only the propagation."""

    def __init__(self, specs: dict[str, str], device: torch.device | str = "cpu",
                 precision: str = "fp32"):  # fmt: skip
        self.specs, self.device = dict(specs), torch.device(device)
        self.amp = torch.bfloat16 if precision == "bf16" else None  # autocast of the network
        self._models: dict[str, torch.nn.Module] = {}
        self._auto: OrderedDict[tuple, torch.Tensor] = OrderedDict()
        self._lock = threading.Lock()

    def default(self) -> str:
        """The model ``auto`` stands for here: the first installed of siggraph17, eccv16,
        lite."""
        from photogen.colorize.pipeline import AUTO_ORDER

        return next((n for n in AUTO_ORDER if n in self.specs), next(iter(self.specs)))

    def add(self, name: str) -> None:
        """A model that became installed (a finished download)."""
        with self._lock:
            self.specs[name] = name

    def resolve(self, name: str) -> str:
        """The model ``name`` stands for (``auto``: :meth:`default`)."""
        return self.default() if name == "auto" else name

    def model(self, name: str):
        from photogen.colorize.pipeline import load_model

        name = self.resolve(name)
        if name not in self.specs:
            raise ValueError(f"unknown colorizer {name!r}; choose one of {', '.join(self.specs)}")
        with self._lock:
            if name not in self._models:
                self._models[name] = load_model(self.specs[name]).to(self.device)
            return self._models[name]

    def describe(self) -> list[dict]:
        """The installed models (``hints``: every one takes them; ``network_hints``: the
        network itself takes them too), the default, and the official ones to download."""
        from photogen.colorize.pipeline import HINT_ARCHS, MODELS, takes_hints

        def network_hints(name: str) -> bool:  # known names without loading their weights
            spec = self.specs[name]
            return spec in HINT_ARCHS if spec in MODELS else takes_hints(self.model(name))

        out = [{"name": n, "installed": True, "hints": True, "default": n == self.default(),
                "network_hints": network_hints(n)} for n in self.specs]  # fmt: skip
        out += [{"name": n, "installed": False, "download_mb": DOWNLOAD_MB[n]}
                for n in OFFICIAL if n not in self.specs]  # fmt: skip
        return out

    def _auto_ab(self, model, name: str, l_channel: torch.Tensor, temperature: float):
        from photogen.colorize.pipeline import predict_ab

        key = (name, temperature, tuple(l_channel.shape),
               hashlib.blake2b(l_channel.numpy().tobytes(), digest_size=16).digest())  # fmt: skip
        with self._lock:
            if key in self._auto:
                self._auto.move_to_end(key)
                return self._auto[key]
        ab = predict_ab(model, l_channel.to(self.device), 256, autocast=self.amp,
                        temperature=temperature).cpu()  # fmt: skip
        with self._lock:
            self._auto[key] = ab
            while len(self._auto) > AUTO_CACHE:
                self._auto.popitem(last=False)
        return ab

    def colorize(
        self,
        photo: torch.Tensor,
        name: str = "auto",
        temperature: float = 0.38,
        hints: list[tuple[float, float, tuple[float, float, float]]] = (),
        strokes: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``photo (1, 3, H, W)`` -> colorized ``(1, 3, H, W)`` (the photo's own L).

        ``hints``: ``(x, y, rgb)`` with x, y in ``[0, 1]`` of the photo's width and height and
        the colour wanted there. ``strokes``: ``(1, 4, h, w)`` painted marks (alpha = where),
        any size with the photo's aspect ratio.
        """
        from photogen.colorize.pipeline import guided_ab
        from photogen.colorize.propagate import ColourHints, scribble_hints
        from photogen.core.color import lab_to_rgb, lightness

        if not 0.01 <= float(temperature) <= 1.0:
            raise ValueError(f"temperature must be 0.01..1, got {temperature}")
        model = self.model(name)  # shared by the lane's threads: nothing of it is modified
        height, width = photo.shape[-2:]
        points = []
        for x, y, rgb in hints:
            if not (0 <= x <= 1 and 0 <= y <= 1):
                raise ValueError(f"hint at ({x}, {y}) is outside the photo")
            lab = rgb_to_lab(torch.tensor(rgb, dtype=torch.float32).view(1, 3, 1, 1))
            points.append((min(width - 1.0, x * width), min(height - 1.0, y * height),
                           float(lab[0, 1]), float(lab[0, 2])))  # fmt: skip
        marks = None
        if strokes is not None:  # its fit to the photo is checked with the points
            marks = scribble_hints(strokes)
        l_channel = lightness(photo.cpu())
        auto = self._auto_ab(model, name, l_channel, float(temperature))
        wanted = ColourHints(points=points, strokes=marks)
        ab = guided_ab(model, l_channel.to(self.device), wanted, 256, auto_ab=auto.to(self.device),
                       autocast=self.amp, temperature=float(temperature))  # fmt: skip
        return lab_to_rgb(torch.cat([l_channel, ab.cpu()], 1))


def _rgb(colour: str) -> tuple[float, float, float]:
    """``"#rrggbb"`` -> floats in [0, 1]."""
    text = str(colour).lstrip("#")
    if len(text) != 6:
        raise ValueError(f"colour {colour!r} is not #rrggbb")
    return tuple(int(text[i : i + 2], 16) / 255.0 for i in (0, 2, 4))


def add_colorize_routes(app, studio: Studio, colorizer: ColorizeService) -> None:
    """The tab's routes: the models (and downloads) on offer, a photo colorized with its
    hints, a download job."""
    lane, jobs, read_upload, session_of = (studio.lane, studio.jobs, studio.read_upload,
                                           studio.session_of)  # fmt: skip

    @app.get("/api/colorize/models")
    async def colorize_models() -> JSONResponse:
        described = await asyncio.get_running_loop().run_in_executor(lane, colorizer.describe)
        return JSONResponse(described)

    @app.post("/api/colorize")
    async def colorize(
        request: Request,
        photo: Annotated[UploadFile, File()],
        model: Annotated[str, Form()] = "auto",
        temperature: Annotated[float, Form()] = 0.38,
        hints: Annotated[str, Form()] = "[]",
        strokes: Annotated[UploadFile | None, File()] = None,
    ) -> Response:
        """The photo colorized at full resolution; ``hints``: JSON ``[[x, y, "#rrggbb"], ...]``
        with x, y as fractions of the photo's width and height; ``strokes``: a PNG of painted
        marks on a transparent layer (the photo's aspect ratio)."""
        session_of(request)
        try:
            pins = [(float(x), float(y), _rgb(colour)) for x, y, colour in json.loads(hints)]
        except (ValueError, TypeError) as exc:
            raise ValueError(f'hints: expected [[x, y, "#rrggbb"], ...] ({exc})') from None
        digests: dict = {}
        image = await read_upload(photo, "photo", digests=digests)
        marks = await read_upload(strokes, "strokes", keep_alpha=True, digests=digests)
        loop = asyncio.get_running_loop()
        out = await loop.run_in_executor(
            lane, lambda: colorizer.colorize(image, model, temperature, pins, marks)
        )
        made = studio.settings("colorize", {"model": colorizer.resolve(model),
                                            "temperature": temperature, "hints": hints},
                               digests)  # fmt: skip
        png = await asyncio.to_thread(encode_png, out, 1, made)
        return Response(png, media_type="image/png")

    @app.post("/api/jobs/weights")
    async def new_download_job(request: Request, name: Annotated[str, Form()]) -> JSONResponse:
        """Download an official colorizer (progress in bytes, cancel, sha256 checked)."""
        session = session_of(request)
        run = download_job(name, colorizer.add)
        return JSONResponse(jobs.public(jobs.submit(session, "download", run)))
