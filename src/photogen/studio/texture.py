"""The studio's Texture tab: Gatys et al. 2015 and the classical methods (Efros-Leung, with
hole filling; quilting; Heeger-Bergen) as jobs on an uploaded source. Calls
``photogen.gatys`` and ``photogen.classic``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import torch
from fastapi import File, Form, Request, UploadFile
from fastapi.responses import JSONResponse

from photogen.nets.features import NETWORKS
from photogen.studio.context import Studio
from photogen.studio.methods import Counter, check_side, extractor

TEXTURE_METHODS = ("gatys", "efros-leung", "quilting", "heeger-bergen")
CLASSIC_SIDE = 256  # the classical methods see the source at most this long (the page says so)


def working_source(source: torch.Tensor, known: torch.Tensor | None = None):
    """The source (and hole mask) shrunk so the longer side is at most :data:`CLASSIC_SIDE`:
    Efros-Leung and quilting compare every window of the source, so a 1365x1074 upload took
    3.5 GiB for a 48 px output, and its texture elements were far larger than the output."""
    h, w = source.shape[-2:]
    if max(h, w) <= CLASSIC_SIDE:
        return source, known
    s = CLASSIC_SIDE / max(h, w)
    size = (max(8, round(h * s)), max(8, round(w * s)))
    small = torch.nn.functional.interpolate(source, size=size, mode="area").clamp(0, 1)
    if known is not None:
        known = torch.nn.functional.interpolate(known[None, None].float(), size=size,
                                                mode="area")[0, 0] > 0.999  # fmt: skip
    return small, known


def texture_job(source: torch.Tensor, method: str = "gatys", size: int = 192, steps: int = 100,
                tileable: bool = False, known: torch.Tensor | None = None, seed: int = 0,
                device: torch.device | str = "cpu") -> Callable:  # fmt: skip
    """A texture like ``source`` by ``method``; with ``known`` (``(H, W)`` bool, the source's
    size, False = to fill) Efros-Leung fills the holes of ``source`` instead."""
    from photogen.classic import efros_leung, heeger_bergen, quilting
    from photogen.gatys.texture import TextureConfig, synthesize_texture

    if method not in TEXTURE_METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(TEXTURE_METHODS)}")
    if tileable and method in ("efros-leung", "quilting"):
        raise ValueError(f"tileable is not implemented for {method}; use gatys or heeger-bergen")
    if known is not None and method != "efros-leung":
        raise ValueError("hole filling (a painted mask) works with efros-leung")
    side = check_side(size, "size", 16, 512)
    hw = (side, side)
    device = torch.device(device)
    source = source[:, :3]
    if method != "gatys":  # the classical methods search the source pixel by pixel
        source, known = working_source(source, known)

    if method == "gatys":
        config = TextureConfig(size=hw, steps=check_side(steps, "steps", 1, 2000),
                               tileable=bool(tileable), seed=int(seed))  # fmt: skip
        config.validate()
        layers = list(NETWORKS[config.network].texture_layers)

        def run(report: Callable) -> torch.Tensor:
            net = extractor(config.network, layers, device)
            return synthesize_texture(source, config, net, device, Counter(report)).image

        return run
    if method == "efros-leung":
        cfg = efros_leung.EfrosLeungConfig(seed=int(seed))

        def run(report: Callable) -> torch.Tensor:
            total = int((~known).sum()) if known is not None else side * side
            done = [0]

            def progress(n: int) -> None:
                done[0] += n
                report(min(done[0], total), total)

            if known is not None:
                return efros_leung.fill_holes(source, known, cfg, progress)
            return efros_leung.synthesize(source, hw, cfg, progress)

        return run
    if method == "quilting":

        def run(report: Callable) -> torch.Tensor:
            report(0, 1)
            return quilting.quilt(source, hw, quilting.QuiltingConfig(seed=int(seed)))

        return run
    cfg_hb = heeger_bergen.HeegerBergenConfig(seed=int(seed))

    def run(report: Callable) -> torch.Tensor:
        def step(i: int, image: torch.Tensor) -> None:
            report(i, cfg_hb.iterations, None, image)

        return heeger_bergen.synthesize(source, hw, cfg_hb, step)

    return run


def add_texture_routes(app, studio: Studio) -> None:
    """``POST /api/jobs/texture``: a texture (or hole-filling) job for the visitor."""

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
        session = studio.session_of(request)
        digests: dict = {}
        src = await studio.read_upload(source, "source", digests=digests)
        m = await studio.read_upload(mask, "mask", digests=digests)
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
        run = texture_job(src, method, size, steps, tileable, known, seed, studio.device)
        fields = {"method": method, "size": size, "steps": steps, "tileable": tileable,
                  "seed": seed}  # fmt: skip
        return JSONResponse(studio.start_job(session, "texture", run, fields, digests))
