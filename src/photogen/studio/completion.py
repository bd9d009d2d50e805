"""The studio's Completion tab: a PixelCNN (van den Oord et al. 2016) completing a box of a
picture, as a job: occluded | original | completions. Calls ``photogen.pixelcnn``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import torch
from fastapi import File, Form, Request, UploadFile
from fastapi.responses import JSONResponse

from photogen.core.training import find_runs
from photogen.studio.context import RefusedError, Studio
from photogen.studio.methods import check_side

BUNDLED_PIXELCNN = "pixelcnn-fashion.safetensors"  # docs/models/pixelcnn-fashion.md


def find_pixelcnn_models(paths: list[str]) -> dict[str, dict]:
    """``name -> {"path", "side", "sample"}``: the bundled Fashion-MNIST model, then the
    PixelCNN runs given (a run, or a folder of runs). ``side`` is the scale the model was
    trained at (its patch side), ``sample`` a picture to start with."""
    import json
    from importlib.resources import files

    found = {}
    bundled = files("photogen") / "data" / BUNDLED_PIXELCNN
    if bundled.is_file():
        found["fashion (bundled)"] = {"path": str(bundled), "side": 28,
                                      "sample": "fashion-ankle-boot"}  # fmt: skip
    for root in paths:
        for run in find_runs(root, "model.safetensors"):
            side = 64
            config = run / "config.json"
            if config.is_file():
                side = int(json.loads(config.read_text()).get("patch", side))
            found[run.name] = {"path": str(run), "side": max(16, min(128, 2 * side)),
                               "sample": "gravel"}  # fmt: skip
    return found


def pixelcnn_job(run_dir: str, image: torch.Tensor, box: tuple[int, int, int, int],
                 n: int = 4, side: int = 64, temperature: float = 1.0,
                 seed: int = 0) -> Callable:  # fmt: skip
    """``n`` completions of the ``box`` (x, y, w, h, in the pixels of ``image`` resized to
    ``side`` on its longer side) by a trained PixelCNN: occluded | original | completions."""
    from photogen.core.resample import resize
    from photogen.gatys.pyramid import fit_max_side
    from photogen.pixelcnn.data import to_levels
    from photogen.pixelcnn.sample import complete
    from photogen.pixelcnn.train import load_model, sample_grid

    n = check_side(n, "n", 1, 8)
    side = check_side(side, "size", 16, 128)
    if not 0.05 <= float(temperature) <= 2.0:
        raise ValueError(f"temperature must be 0.05..2, got {temperature}")
    model = load_model(run_dir)
    h, w = fit_max_side(*image.shape[-2:], side)
    small = resize(image[:, :3], (h, w)).clamp(0, 1)
    if model.config.channels == 1:
        small = small.mean(1, keepdim=True)
    levels = to_levels(small)[0]
    x, y, bw, bh = (int(v) for v in box)
    if bw < 1 or bh < 1 or x < 0 or y < 0 or x + bw > w or y + bh > h:
        raise ValueError(f"box {x},{y},{bw},{bh} does not fit in the {w}x{h} image")
    mask = torch.ones(h, w, dtype=torch.bool)
    mask[y : y + bh, x : x + bw] = False

    def run(report: Callable) -> torch.Tensor:
        rows = [0]

        def progress(k: int) -> None:
            rows[0] += k
            report(min(rows[0], h), h)

        out = complete(model, levels, mask, n, temperature=float(temperature), seed=int(seed),
                       progress=progress)  # fmt: skip
        shown = levels.clone()[None]
        shown[:, :, ~mask] = 128  # the occlusion in grey
        return sample_grid(torch.cat([shown, levels[None], out]), cols=n + 2)

    return run


def add_completion_routes(app, studio: Studio, models: dict[str, dict]) -> None:
    """The models on offer (names and scales, never their paths) and the completion job."""

    @app.get("/api/pixelcnn/models")
    def pixelcnn_models() -> JSONResponse:
        return JSONResponse([{"name": k, "side": v["side"], "sample": v["sample"]}
                             for k, v in models.items()])  # fmt: skip

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
        session = studio.session_of(request)
        if model not in models:
            raise RefusedError(404, f"no PixelCNN {model!r}: start the studio with --pixelcnn RUN")
        parts = box.split(",")
        if len(parts) != 4 or not all(p.strip().lstrip("-").isdigit() for p in parts):
            raise ValueError(f"box {box!r}: expected x,y,w,h")
        rect = tuple(int(p) for p in parts)
        digests: dict = {}
        picture = await studio.read_upload(image, "image", digests=digests)
        run = pixelcnn_job(models[model]["path"], picture, rect, n, size, temperature, seed)
        fields = {"model": model, "box": box, "n": n, "size": size, "temperature": temperature,
                  "seed": seed}  # fmt: skip
        return JSONResponse(studio.start_job(session, "pixelcnn", run, fields, digests))
