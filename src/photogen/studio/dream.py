"""The studio's Dream tab: DeepDream (Mordvintsev et al. 2015) as a job on an uploaded photo
(progress, the picture as it grows, cancel), with the layer, the octaves, the steps and an
optional guide picture. Calls ``photogen.dream``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import torch
from fastapi import File, Form, Request, UploadFile
from fastapi.responses import JSONResponse

from photogen.core.resample import resize
from photogen.gatys.pyramid import fit_max_side
from photogen.studio.context import Studio
from photogen.studio.methods import check_side, extractor


def dream_job(photo: torch.Tensor, layer: str = "block10", size: int = 384, octaves: int = 4,
              steps: int = 10, guide: torch.Tensor | None = None, seed: int = 0,
              device: torch.device | str = "cpu") -> Callable:  # fmt: skip
    """DeepDream on ``photo`` ``(1, 3, H, W)`` shrunk so its longer side is at most ``size``,
    with the notebook's defaults but for the arguments."""
    from photogen.dream.dream import DreamConfig, dream, layers_of

    config = DreamConfig(layer=layer, octaves=check_side(octaves, "octaves", 1, 8),
                         steps=check_side(steps, "steps", 1, 50), seed=int(seed))  # fmt: skip
    config.validate()
    names = layers_of(config.network)
    if layer not in names:
        raise ValueError(f"unknown layer {layer!r}; {config.network} has {', '.join(names)}")
    side = check_side(size, "size", 64, 1024)
    h, w = photo.shape[-2:]
    if max(h, w) > side:
        photo = resize(photo[:, :3], fit_max_side(h, w, side))
    device = torch.device(device)

    def run(report: Callable) -> torch.Tensor:
        net = extractor(config.network, [config.layer], device)

        def step(done: int, total: int, image: torch.Tensor) -> None:
            report(done, total, image=image)

        return dream(photo, config, net, guide, device, step).image

    return run


def add_dream_routes(app, studio: Studio) -> None:
    """``GET /api/dream/layers`` (the network's layers and the default one) and
    ``POST /api/jobs/dream``: a DeepDream job for the visitor."""
    from photogen.dream.dream import DreamConfig, layers_of

    @app.get("/api/dream/layers")
    def dream_layers() -> JSONResponse:
        default = DreamConfig()
        return JSONResponse({"layers": layers_of(default.network), "default": default.layer})

    @app.post("/api/jobs/dream")
    async def new_dream_job(
        request: Request,
        photo: Annotated[UploadFile, File()],
        guide: Annotated[UploadFile | None, File()] = None,
        layer: Annotated[str, Form()] = "block10",
        size: Annotated[int, Form()] = 384,
        octaves: Annotated[int, Form()] = 4,
        steps: Annotated[int, Form()] = 10,
        seed: Annotated[int, Form()] = 0,
    ) -> JSONResponse:
        session = studio.session_of(request)
        digests: dict = {}
        p = await studio.read_upload(photo, "photo", digests=digests)
        g = await studio.read_upload(guide, "guide", digests=digests)
        run = dream_job(p, layer, size, octaves, steps, g, seed, studio.device)
        fields = {"layer": layer, "size": size, "octaves": octaves, "steps": steps, "seed": seed}
        return JSONResponse(studio.start_job(session, "dream", run, fields, digests))
