"""The studio's sketch-to-image handlers: which pix2pix generators can be drawn into, and one
drawing through one of them. Plain functions over the library (``photogen.pix2pix``); the
web layer (``studio.server``) only moves bytes.

A model is offered when it exists here: the bundled facades generator (labels -> facade,
trained by ``photogen pix2pix train``, see docs/models/pix2pix-facades-lite.md), every run
folder given with ``--models`` (a folder holding ``generator.safetensors``, or a folder of
such folders), and the released generators whose weights are already in the cache.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import torch

from photogen.core.image import decode_image, encode_png
from photogen.core.resample import resize
from photogen.core.training import find_runs
from photogen.core.weights import WeightsError
from photogen.core.weights import resolve as resolve_weights
from photogen.pix2pix.data import from_model, to_model
from photogen.pix2pix.facades import PALETTE, facade
from photogen.pix2pix.infer import BatchTranslator
from photogen.pix2pix.models import RELEASED, load_generator

BUNDLED_FACADES = "pix2pix-facades-lite.safetensors"
SIDE = 256  # the generators' input side
DROPOUT_SEED = 0  # fixed: the picture changes only where the drawing does
WHITE, BLACK = (1.0, 1.0, 1.0), (0.0, 0.0, 0.0)


@dataclass
class SketchModel:
    """One generator that can be drawn into."""

    name: str
    source: str  # a path or a released name, handed to load_generator
    kind: str  # "labels" (draw with a palette) or "lines" (draw black on white)
    palette: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    background: tuple[float, float, float] = WHITE
    description: str = ""

    def public(self) -> dict:
        """What the page may know: no path on the server."""
        hexes = {k: _hex(v) for k, v in self.palette.items()}
        bg = _hex(self.background)
        return {"name": self.name, "kind": self.kind, "palette": hexes, "background": bg,
                "description": self.description}  # fmt: skip


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(c * 255):02x}" for c in rgb)


def bundled_facades_path() -> Path | None:
    path = resources.files("photogen") / "data" / BUNDLED_FACADES
    return Path(str(path)) if path.is_file() else None


def _facades_model(name: str, source: str, description: str) -> SketchModel:
    return SketchModel(name, source, "labels", dict(PALETTE), PALETTE["wall"], description)


def find_models(run_dirs: list[str | Path] = ()) -> list[SketchModel]:
    """The generators available here, bundled first."""
    models = []
    bundled = bundled_facades_path()
    if bundled is not None:
        note = "labels -> facade: paint windows, doors, sills, cornices"
        models.append(_facades_model("facades (bundled)", str(bundled), note))
    for root in run_dirs:
        models += [_run_model(run) for run in find_runs(root, "generator.safetensors")]
    for name in RELEASED:
        try:
            resolve_weights(f"pix2pix_{name}", allow_download=False)
        except (WeightsError, OSError):
            continue
        if name.startswith("facades"):
            models.append(_facades_model(name, name, "the authors' labels -> facade (CMP data)"))
        else:
            models.append(SketchModel(name, name, "lines", description=f"the authors' {name}"))
    return models


def _run_model(run: Path) -> SketchModel:
    """A run folder: a facades run keeps the label palette, anything else draws lines."""
    import json

    data = ""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        data = json.loads((run / "config.json").read_text()).get("data", "")
    if "facade" in str(data).lower():
        return _facades_model(run.name, str(run), f"run folder {run.name} (labels)")
    return SketchModel(run.name, str(run), "lines", description=f"run folder {run.name}")


def example_drawing(model: SketchModel, seed: int = 7) -> torch.Tensor:
    """A drawing to start from: a facade label map, or an empty white sheet."""
    if model.kind == "labels":
        return facade(SIDE, seed)[0]
    return torch.ones(1, 3, SIDE, SIDE)


class SketchEngine:
    """Loaded generators by name (each loaded once), and the translation of one drawing.

    Thread-safe: the server calls :meth:`translate` from a worker thread.
    """

    def __init__(self, models: list[SketchModel], device: torch.device | str = "cpu",
                 precision: str = "fp32"):  # fmt: skip
        self.models = {m.name: m for m in models}
        self.device, self.precision = torch.device(device), precision
        self._loaded: dict[str, BatchTranslator] = {}
        self._lock = threading.Lock()

    def translator(self, name: str) -> BatchTranslator:
        if name not in self.models:
            raise ValueError(f"unknown model {name!r}; choose one of {', '.join(self.models)}")
        with self._lock:
            if name not in self._loaded:
                G = load_generator(self.models[name].source)
                self._loaded[name] = BatchTranslator(G.to(self.device), device=self.device,
                                                     precision=self.precision)  # fmt: skip
            return self._loaded[name]

    def translate(self, name: str, drawing: torch.Tensor) -> torch.Tensor:
        """``(1, 3, H, W)`` drawing in ``[0, 1]`` -> ``(1, 3, 256, 256)`` picture in ``[0, 1]``."""
        if drawing.dim() != 4 or drawing.shape[:2] != (1, 3):
            raise ValueError(f"drawing must be (1, 3, H, W), got {tuple(drawing.shape)}")
        x = resize(drawing, SIDE, "bicubic") if drawing.shape[-2:] != (SIDE, SIDE) else drawing
        out = self.translator(name)(to_model(x), [DROPOUT_SEED])
        return from_model(out)

    def translate_png(
        self, name: str, data: bytes, max_pixels: int = 4096 * 4096
    ) -> tuple[bytes, float]:
        """PNG (or any image) bytes in, PNG bytes out, and the milliseconds the network took."""
        drawing = decode_image(data, "drawing", max_pixels=max_pixels, min_side=8)
        t0 = time.perf_counter()
        out = self.translate(name, drawing)
        ms = (time.perf_counter() - t0) * 1000
        return encode_png(out), ms
