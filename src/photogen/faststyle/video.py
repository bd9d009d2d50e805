"""A fast style network on video frames: one forward pass a frame (through the chosen engine,
compiled for the frame size), then the flow-carried temporal blend of
:mod:`photogen.core.temporal`, whose state a resumed video carries."""

from __future__ import annotations

import torch

from photogen.core.engines import compile_module
from photogen.core.temporal import BlendedFrames, flow_grey
from photogen.core.video import Frame
from photogen.faststyle.network import TransformNet


class FastStyleFrames(BlendedFrames):
    """A :class:`photogen.core.videojob.FrameProcessor`."""

    def __init__(self, model: TransformNet, temporal: bool = True, alpha: float = 0.6,
                 engine: str = "torch", precision: str = "fp32"):  # fmt: skip
        super().__init__(temporal, alpha)
        self.model, self.engine, self.precision = model.eval(), engine, precision
        self._run, self._shape = None, None

    def stylize(self, image: torch.Tensor) -> torch.Tensor:
        x = image[:, :3].float()
        if self._shape != tuple(x.shape):  # the exported engines are compiled for one shape
            self._run, self._shape = (
                compile_module(self.model, x, self.engine, precision=self.precision),
                tuple(x.shape),
            )
        return self._run(x).float().clamp(0, 1)

    def __call__(self, frame: Frame) -> torch.Tensor:
        return self.carry(flow_grey(frame.image[:, :3]), self.stylize(frame.image))
