"""The studio's colorize tab: automatic colorization of an uploaded photo at full resolution
(Zhang et al. 2016), with a temperature, and colour hints pinned by clicks for the networks
that take them (the siggraph17 architecture, Zhang et al. 2017). Calls
``photogen.colorize.pipeline``."""

from __future__ import annotations

import threading
from pathlib import Path

import torch

from photogen.core.color import rgb_to_lab
from photogen.core.weights import WeightsError
from photogen.core.weights import resolve as resolve_weights

HINT_RADIUS = 2  # the hint patch is (2r + 1) pixels square at the network's 256 px


def find_colorizers(runs: list[str] = ()) -> dict[str, str]:
    """``name -> spec`` for :func:`photogen.colorize.pipeline.load_model`: the bundled lite
    model, the official networks already in the cache, and run folders or weight files."""
    import photogen.colorize.models  # noqa: F401 - registers eccv16 and siggraph17
    import photogen.colorize.pipeline  # noqa: F401 - registers the bundled lite models

    found = {"lite": "lite"}
    for name in ("lite-hints", "eccv16", "siggraph17"):
        try:
            resolve_weights(f"colorize-{name}" if name.startswith("lite") else name,
                            allow_download=False)  # fmt: skip
        except (WeightsError, OSError):
            continue
        found[name] = name
    for spec in runs:
        path = Path(spec)
        found[path.stem if path.is_file() else path.name] = str(path)
    return found


class ColorizeService:
    """Colorizers loaded once by name; one photo at a time (the server's worker thread)."""

    def __init__(self, specs: dict[str, str], device: torch.device | str = "cpu"):
        self.specs, self.device = dict(specs), torch.device(device)
        self._models: dict[str, torch.nn.Module] = {}
        self._lock = threading.Lock()

    def model(self, name: str):
        from photogen.colorize.pipeline import load_model

        if name not in self.specs:
            raise ValueError(f"unknown colorizer {name!r}; choose one of {', '.join(self.specs)}")
        with self._lock:
            if name not in self._models:
                self._models[name] = load_model(self.specs[name]).to(self.device)
            return self._models[name]

    def takes_hints(self, name: str) -> bool:
        return getattr(self.model(name), "arch", "") in ("siggraph17", "lite-hints")

    def describe(self) -> list[dict]:
        return [{"name": n, "hints": self.takes_hints(n)} for n in self.specs]

    def colorize(
        self,
        photo: torch.Tensor,
        name: str = "lite",
        temperature: float = 0.38,
        hints: list[tuple[float, float, tuple[float, float, float]]] = (),
    ) -> torch.Tensor:
        """``photo (1, 3, H, W)`` -> colorized ``(1, 3, H, W)`` (the photo's own L).

        ``hints``: ``(x, y, rgb)`` with x, y in ``[0, 1]`` of the photo's width and height and
        the colour wanted there; only the siggraph17 architecture takes them.
        """
        from photogen.colorize.models import hints_from_points
        from photogen.colorize.pipeline import colorize_tensor

        if not 0.01 <= float(temperature) <= 1.0:
            raise ValueError(f"temperature must be 0.01..1, got {temperature}")
        model = self.model(name)
        if hasattr(model, "temperature"):
            model.temperature = float(temperature)
        hint_maps = None
        if hints:
            if not self.takes_hints(name):
                raise ValueError(f"{name} takes no colour hints (siggraph17 and lite-hints do)")
            side = 256
            points = []
            for x, y, rgb in hints:
                if not (0 <= x <= 1 and 0 <= y <= 1):
                    raise ValueError(f"hint at ({x}, {y}) is outside the photo")
                lab = rgb_to_lab(torch.tensor(rgb, dtype=torch.float32).view(1, 3, 1, 1))
                points.append((min(side - 1, int(y * side)), min(side - 1, int(x * side)),
                               float(lab[0, 1]), float(lab[0, 2])))  # fmt: skip
            ab, mask = hints_from_points(points, side, side, radius=HINT_RADIUS)
            hint_maps = (ab.to(self.device), mask.to(self.device))
        return colorize_tensor(model, photo, 256, self.device, hint_maps)
