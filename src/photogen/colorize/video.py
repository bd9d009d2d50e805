"""Colorizing video (``photogen colorize film.mp4 -o out.mp4 [--hint X,Y,A,B ...]``).

Each frame's ab comes from the network as for a photo; with ``temporal`` (the default) the ab
channels are blended with the previous frame's, carried by optical flow where it is reliable
(:mod:`photogen.core.temporal`), so colours stop flickering while the lightness stays the
frame's own. Blending happens in ab, not RGB: averaging along a trajectory keeps the hue and
does not grey the picture the way averaging RGB over unrelated pixels would.

Colour hints are given on the first frame processed; each point then moves with the forward
optical flow from frame to frame (a point that leaves the picture is dropped) and is
propagated into its region on every frame (:mod:`photogen.colorize.propagate`), before the
temporal blend.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from photogen.colorize.pipeline import guided_ab, predict_ab
from photogen.colorize.propagate import ColourHints
from photogen.core.color import lab_to_rgb, lightness
from photogen.core.engines import compile_module
from photogen.core.flow import dis_flow
from photogen.core.temporal import BlendedFrames, flow_grey
from photogen.core.video import Frame


def carry_points(points: list[tuple[float, float, float, float]], flow: np.ndarray,
                 height: int, width: int) -> list[tuple[float, float, float, float]]:  # fmt: skip
    """Move ``(x, y, a, b)`` points of a ``height`` x ``width`` frame by a forward ``flow``
    ``(h, w, 2)`` computed at any smaller size (resampled at each point, nearest); points
    that leave the frame are dropped."""
    h, w = flow.shape[:2]
    sx, sy = width / w, height / h
    out = []
    for x, y, a, b in points:
        fx, fy = flow[min(h - 1, int(y / sy)), min(w - 1, int(x / sx))]
        nx, ny = x + float(fx) * sx, y + float(fy) * sy
        if 0 <= nx < width and 0 <= ny < height:
            out.append((nx, ny, a, b))
    return out


class ColorizeFrames(BlendedFrames):
    """A :class:`photogen.core.videojob.FrameProcessor` that colorizes, with optional hints
    ``(x, y, a, b)`` in the first frame's pixels."""

    def __init__(self, model: nn.Module, size: int = 256, temporal: bool = True,
                 alpha: float = 0.9, device: torch.device | None = None,
                 engine: str = "torch",
                 hints: list[tuple[float, float, float, float]] = (),
                 precision: str = "fp32"):  # fmt: skip
        self.size = size
        # bf16 on PyTorch: autocast around the network; on OpenVINO: its inference precision
        self.amp = torch.bfloat16 if precision == "bf16" and engine == "torch" else None
        self.device = device or next(model.parameters()).device
        super().__init__(temporal, alpha)
        self.model = model
        self.points = [tuple(float(v) for v in p) for p in hints]
        self.points_grey: np.ndarray | None = None  # the frame the points are placed on
        if engine != "torch":  # the exported engines run on the CPU (no hint input there)
            self.device = torch.device("cpu")
            example = torch.zeros(1, 1, size, size)
            self.model = compile_module(model.cpu(), example, engine, precision=precision)

    def _move_points(self, grey: np.ndarray, height: int, width: int) -> None:
        if self.points and self.points_grey is not None and self.points_grey.shape == grey.shape:
            flow = dis_flow(self.points_grey, grey, "fast")
            self.points = carry_points(self.points, flow, height, width)
        self.points_grey = grey

    @torch.inference_mode()
    def __call__(self, frame: Frame) -> torch.Tensor:
        rgb = frame.image.to(self.device)
        l_channel = lightness(rgb)
        grey = flow_grey(frame.image)
        if self.points:
            self._move_points(grey, *rgb.shape[-2:])
            hints = ColourHints(points=list(self.points))
            ab = guided_ab(self.model, l_channel, hints, self.size, autocast=self.amp)
        else:
            ab = predict_ab(self.model, l_channel, self.size, autocast=self.amp)
        ab = self.carry(grey, ab.to(self.device))
        return lab_to_rgb(torch.cat([l_channel, ab.to(l_channel)], 1)).clamp(0, 1).cpu()

    def state(self) -> dict[str, torch.Tensor]:
        out = super().state()
        if self.points_grey is not None:
            out["points"] = torch.tensor(self.points, dtype=torch.float64).reshape(-1, 4)
            out["points_grey"] = torch.from_numpy(self.points_grey.copy())
        return out

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        super().load_state(state)
        if "points" in state:
            self.points = [tuple(float(v) for v in row) for row in state["points"].tolist()]
            self.points_grey = state["points_grey"].numpy().astype(np.uint8)
