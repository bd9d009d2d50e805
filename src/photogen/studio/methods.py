"""The studio's style-transfer and texture jobs: settings from the page -> a function the job
manager runs, calling the library (``photogen.gatys``, ``photogen.classic``) and reporting
progress, loss and the image being optimised."""

from __future__ import annotations

import threading
from collections.abc import Callable

import torch

from photogen.core.training import find_runs
from photogen.gatys.optimize import StepInfo
from photogen.nets.features import NETWORKS, FeatureExtractor, build_network

TEXTURE_METHODS = ("gatys", "efros-leung", "quilting", "heeger-bergen")
_extractors: dict[tuple, FeatureExtractor] = {}
_extractor_lock = threading.Lock()


def _extractor(network: str, layers: list[str], device: torch.device) -> FeatureExtractor:
    """One feature network per (network, layers, device), built on first use."""
    key = (network, tuple(layers), str(device))
    with _extractor_lock:
        if key not in _extractors:
            _extractors[key] = FeatureExtractor(build_network(network), layers).to(device)
        return _extractors[key]


class _Counter:
    """StepInfo callbacks of a multi-level optimisation -> report(done, total, loss, image)."""

    def __init__(self, report: Callable):
        self.report, self.count, self.level = report, 0, -1
        self.total = 0

    def __call__(self, info: StepInfo) -> None:
        self.count += 1
        if info.level != self.level:
            self.level = info.level
            self.total = self.count - 1 + info.steps * (info.levels - info.level)
        self.report(self.count, self.total, info.loss, info.image)


def _check_side(value: int, name: str, lo: int = 16, hi: int = 1024) -> int:
    value = int(value)
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be {lo}..{hi}, got {value}")
    return value


def style_job(content: torch.Tensor, style: torch.Tensor, size: int = 256, steps: int = 100,
              preserve_colors: bool = False, style_scale: float = 1.0, seed: int = 0,
              device: torch.device | str = "cpu") -> Callable:  # fmt: skip
    """Gatys et al. 2016 on ``content`` with ``style`` (both ``(1, 3, H, W)`` in [0, 1])."""
    from photogen.gatys.style import StyleConfig, stylize

    steps = _check_side(steps, "steps", 1, 2000)
    config = StyleConfig(max_size=_check_side(size, "size"), steps=steps,
                         preserve_colors=bool(preserve_colors), style_scale=float(style_scale),
                         seed=int(seed))  # fmt: skip
    config.validate(1)
    device = torch.device(device)
    spec = NETWORKS[config.network]
    layers = [*spec.style_layers, spec.content_layer]

    def run(report: Callable) -> torch.Tensor:
        extractor = _extractor(config.network, layers, device)
        return stylize(content, [style], config, extractor, device, _Counter(report)).image

    return run


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
    side = _check_side(size, "size", 16, 512)
    hw = (side, side)
    device = torch.device(device)
    source = source[:, :3]
    if method != "gatys":  # the classical methods search the source pixel by pixel
        source, known = working_source(source, known)

    if method == "gatys":
        config = TextureConfig(size=hw, steps=_check_side(steps, "steps", 1, 2000),
                               tileable=bool(tileable), seed=int(seed))  # fmt: skip
        config.validate()
        layers = list(NETWORKS[config.network].texture_layers)

        def run(report: Callable) -> torch.Tensor:
            extractor = _extractor(config.network, layers, device)
            return synthesize_texture(source, config, extractor, device, _Counter(report)).image

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


def _regions_image(mlp, Xtr, ytr, Xte, yte, side: int = 240, extent: float = 6.0) -> torch.Tensor:
    """Decision regions as the lecture's playground draws them: blue for +1, orange for -1,
    paler where the network is unsure; training points filled, test points as rings."""
    import numpy as np

    g = np.linspace(-extent, extent, side)
    gx, gy = np.meshgrid(g, -g)  # y up
    s = mlp.scores(np.c_[gx.ravel(), gy.ravel()])
    p = np.exp(s - s.max(1, keepdims=True))
    conf = (2 * p[:, 1] / p.sum(1) - 1).reshape(side, side)
    blue, orange = np.array([0.16, 0.45, 0.80]), np.array([0.96, 0.58, 0.16])
    colour = np.where(conf[..., None] > 0, blue, orange)
    img = 1.0 - np.abs(conf)[..., None] * 0.6 * (1.0 - colour)
    for X, y, ring in ((Xtr, ytr, False), (Xte, yte, True)):
        col = ((X[:, 0] + extent) / (2 * extent) * (side - 1)).round().astype(int)
        row = ((extent - X[:, 1]) / (2 * extent) * (side - 1)).round().astype(int)
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                if ring and abs(dy) < 2 and abs(dx) < 2:
                    continue
                r, c = np.clip(row + dy, 0, side - 1), np.clip(col + dx, 0, side - 1)
                img[r, c] = np.where(y[:, None] > 0, blue * 0.7, orange * 0.75)
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))).float()[None]


def playground_job(dataset: str = "circle", noise: float = 0.1, hidden: str = "4,4",
                   activation: str = "tanh", l2: float = 0.0, lr: float = 0.03,
                   epochs: int = 200, points: int = 400, seed: int = 0) -> Callable:  # fmt: skip
    """The lecture's MLP playground: numpy backprop on a 2-D dataset, the decision regions and
    the train/test loss after every epoch (``report``'s image and ``curve``)."""
    from photogen.learn.mlp import MLP, History, labels01
    from photogen.learn.toy import make_dataset, split

    try:
        layers = [int(v) for v in str(hidden).replace(" ", "").split(",") if v]
    except ValueError:
        raise ValueError(f"hidden layers {hidden!r}: expected numbers like 4,4") from None
    if len(layers) > 6 or any(not 1 <= n <= 64 for n in layers):
        raise ValueError("at most 6 hidden layers of 1..64 units")
    epochs = _check_side(epochs, "epochs", 1, 5000)
    X, y = make_dataset(dataset, _check_side(points, "points", 20, 4000), float(noise), int(seed))
    Xtr, ytr, Xte, yte = split(X, y)
    mlp = MLP([2, *layers, 2], activation=activation, l2=float(l2), seed=int(seed))
    if not 0 < float(lr) <= 10:
        raise ValueError(f"learning rate must be in (0, 10], got {lr}")

    def run(report: Callable, curve: dict | None = None) -> torch.Tensor:
        hist = History()
        for epoch in range(1, epochs + 1):
            mlp.fit(Xtr, labels01(ytr), epochs=1, lr=float(lr), seed=int(seed) * 100_003 + epoch,
                    X_test=Xte, y_test=labels01(yte), history=hist)  # fmt: skip
            if curve is not None:
                curve.update(train=hist.loss, test=hist.test_loss,
                             test_accuracy=hist.test_accuracy[-1])  # fmt: skip
            report(epoch, epochs, hist.loss[-1], lambda: _regions_image(mlp, Xtr, ytr, Xte, yte))
        return _regions_image(mlp, Xtr, ytr, Xte, yte)

    run.wants_curve = True
    return run


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
    from photogen.gatys.pyramid import fit_max_side, resize
    from photogen.pixelcnn.data import to_levels
    from photogen.pixelcnn.sample import complete
    from photogen.pixelcnn.train import load_model, sample_grid

    n = _check_side(n, "n", 1, 8)
    side = _check_side(side, "size", 16, 128)
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
