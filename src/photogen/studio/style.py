"""The studio's Style tab: Gatys et al. 2016 as a job (progress, loss, the image being
optimised, cancel) on an uploaded content photo and style picture. Calls ``photogen.gatys``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import torch
from fastapi import File, Form, Request, UploadFile
from fastapi.responses import JSONResponse

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


def add_style_routes(app, studio: Studio) -> None:
    """``POST /api/jobs/style``: a style job for the visitor."""

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
        made = studio.settings("style", {"size": size, "steps": steps, "seed": seed,
                                         "preserve_colors": preserve_colors}, digests)  # fmt: skip
        return JSONResponse(studio.jobs.submit(session, "style", run, made).public())
