"""The studio's Style tab: Gatys et al. 2016 as a job (progress, loss, the image being
optimised, cancel) on an uploaded content photo and style picture. Calls ``photogen.gatys``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import torch
from fastapi import File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from photogen.nets.features import NETWORKS
from photogen.studio.context import Studio
from photogen.studio.methods import Counter, check_side, extractor


def style_job(content: torch.Tensor, style: torch.Tensor, size: int = 256, steps: int = 100,
              preserve_colors: bool = False, style_scale: float = 1.0, seed: int = 0,
              device: torch.device | str = "cpu") -> Callable:  # fmt: skip
    """Gatys et al. 2016 on ``content`` with ``style`` (both ``(1, 3, H, W)`` in [0, 1])."""
    from photogen.gatys.style import StyleConfig, stylize

    steps = check_side(steps, "steps", 1, 2000)
    config = StyleConfig(max_size=check_side(size, "size"), steps=steps,
                         preserve_colors=bool(preserve_colors), style_scale=float(style_scale),
                         seed=int(seed))  # fmt: skip
    config.validate(1)
    device = torch.device(device)
    spec = NETWORKS[config.network]
    layers = [*spec.style_layers, spec.content_layer]

    def run(report: Callable) -> torch.Tensor:
        net = extractor(config.network, layers, device)
        return stylize(content, [style], config, net, device, Counter(report)).image

    return run


def fast_models(runs: list[str]) -> dict[str, str]:
    """``name -> source`` of the fast style networks on offer: the bundled ones, then the runs
    given (a run folder, or a folder of runs)."""
    from photogen.core.training import find_runs
    from photogen.faststyle.models import BUNDLED

    found = {name: name for name in BUNDLED}
    for root in runs:
        for run in find_runs(root, "model.safetensors"):
            found[run.name] = str(run)
    return found


class FastStyles:
    """Fast style networks loaded once by name (thread-safe: a forward keeps no state)."""

    def __init__(self, sources: dict[str, str], device: torch.device, precision: str = "fp32"):
        import threading

        self.sources, self.device, self.precision = sources, device, precision
        self._loaded: dict = {}
        self._lock = threading.Lock()

    def model(self, name: str):
        """The network ``name`` (loaded on first use; ValueError for a name not on offer)."""
        from photogen.faststyle.train import load_model

        if name not in self.sources:
            raise ValueError(f"unknown style network {name!r}; choose one of "
                             f"{', '.join(self.sources) or 'none here'}")  # fmt: skip
        with self._lock:
            if name not in self._loaded:
                self._loaded[name] = load_model(self.sources[name]).to(self.device)
            return self._loaded[name]

    def stylize(self, name: str, photo: torch.Tensor) -> torch.Tensor:
        from photogen.core.precision import autocast

        model = self.model(name)
        with torch.no_grad(), autocast(self.precision, self.device):
            return model.stylize(photo[:, :3].to(self.device)).float().cpu()


def add_style_routes(app, studio: Studio, fast: FastStyles) -> None:
    """``POST /api/jobs/style``: a style job for the visitor; the fast networks ``fast``: what
    is on offer, and ``POST /api/style/fast`` (the interactive lane: one forward pass; the
    page blends it with the photo as the strength slider moves, without asking again)."""
    from photogen.core.image import encode_png

    @app.get("/api/style/fast-models")
    def fast_style_models() -> JSONResponse:
        return JSONResponse(list(fast.sources))

    @app.post("/api/style/fast")
    async def fast_style(
        request: Request,
        content: Annotated[UploadFile, File()],
        model: Annotated[str, Form()],
    ) -> Response:
        studio.session_of(request)
        digests: dict = {}
        photo = await studio.read_upload(content, "content", digests=digests)
        out = await studio.in_lane(fast.stylize, model, photo)
        made = studio.settings("style", {"fast_model": model}, digests)
        png = await studio.in_lane(lambda: encode_png(out, 1, made))
        return Response(png, media_type="image/png")

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
        session = studio.session_of(request)
        digests: dict = {}
        c = await studio.read_upload(content, "content", digests=digests)
        s = await studio.read_upload(style, "style", digests=digests)
        run = style_job(c, s, size, steps, preserve_colors, seed=seed, device=studio.device)
        fields = {"size": size, "steps": steps, "seed": seed, "preserve_colors": preserve_colors}
        return JSONResponse(studio.start_job(session, "style", run, fields, digests))
