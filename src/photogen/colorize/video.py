"""Colorizing video (``photogen colorize film.mp4 -o out.mp4``).

Each frame's ab comes from the network as for a photo; with ``temporal`` (the default) the ab
channels are blended with the previous frame's, carried by optical flow where it is reliable
(:mod:`photogen.core.temporal`), so colours stop flickering while the lightness stays the
frame's own. Blending happens in ab, not RGB: averaging along a trajectory keeps the hue and
does not grey the picture the way averaging RGB over unrelated pixels would.
"""

from __future__ import annotations

import torch
from torch import nn

from photogen.colorize.pipeline import predict_ab
from photogen.core.color import lab_to_rgb, lightness
from photogen.core.engines import compile_module
from photogen.core.temporal import TemporalBlend, flow_grey
from photogen.core.video import Frame


class ColorizeFrames:
    """A :class:`photogen.core.videojob.FrameProcessor` that colorizes."""

    def __init__(self, model: nn.Module, size: int = 256, temporal: bool = True,
                 alpha: float = 0.9, device: torch.device | None = None,
                 engine: str = "torch"):  # fmt: skip
        self.size = size
        self.device = device or next(model.parameters()).device
        self.blend = TemporalBlend(alpha) if temporal else None
        self.model = model
        if engine != "torch":  # the exported engines run on the CPU
            self.device = torch.device("cpu")
            example = torch.zeros(1, 1, size, size)
            self.model = compile_module(model.cpu(), example, engine)

    @torch.inference_mode()
    def __call__(self, frame: Frame) -> torch.Tensor:
        rgb = frame.image.to(self.device)
        l_channel = lightness(rgb)
        ab = predict_ab(self.model, l_channel, self.size)
        if self.blend is not None:
            ab = self.blend.step(flow_grey(frame.image), ab)
        return lab_to_rgb(torch.cat([l_channel, ab], 1)).clamp(0, 1).cpu()

    def state(self) -> dict[str, torch.Tensor]:
        return self.blend.state() if self.blend is not None else {}

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        if self.blend is not None:
            self.blend.load_state(state)
