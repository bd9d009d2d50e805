"""Temporal coherence for per-frame methods: blend each frame's result with the previous
result carried along the optical flow, where the flow is reliable.

``o_t = f_t + alpha * c_t * (warp(o_{t-1}) - f_t)``: ``f_t`` the method's own result for frame
t, ``c_t`` the reliability mask of :mod:`photogen.core.flow` (0 at occlusions, motion
boundaries and pixels coming from outside the frame, where the new result is kept as it is).
It is an exponential moving average along motion trajectories: static or smoothly moving
content stops flickering, new content appears at once. Applied to what flickers (the ab
channels of a colorization, a generator's output), not to the input.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from photogen.core.flow import FlowPair, grey_u8

FLOW_SIDE = 512  # flow is computed with the longer side at most this (then resampled)
PHOTOMETRIC = 0.08  # grey-level change (0-1) beyond which a carried pixel is not trusted


def flow_grey(image: torch.Tensor, side: int = FLOW_SIDE) -> np.ndarray:
    """The grey uint8 frame flow is computed on (shrunk to ``side`` on its longer side)."""
    h, w = image.shape[-2:]
    if max(h, w) > side:
        s = side / max(h, w)
        image = F.interpolate(image, size=(max(8, round(h * s)), max(8, round(w * s))),
                              mode="area")  # fmt: skip
    return grey_u8(image)


class TemporalBlend:
    """The running blend of the module doc, with the state a resumed video needs."""

    def __init__(self, alpha: float = 0.8, preset: str = "fast"):
        if not 0.0 <= alpha < 1.0:
            raise ValueError(f"alpha must be in [0, 1), got {alpha}")
        self.alpha, self.preset = alpha, preset
        self.prev_grey: np.ndarray | None = None
        self.prev_out: torch.Tensor | None = None

    def flow(self, grey: np.ndarray) -> FlowPair | None:
        """The flow from the previous frame to ``grey`` (None on the first frame or a cut to
        another size)."""
        if self.prev_grey is None or self.prev_grey.shape != grey.shape:
            return None
        return FlowPair(self.prev_grey, grey, self.preset, PHOTOMETRIC, consistency=False)

    def step(self, grey: np.ndarray, value: torch.Tensor) -> torch.Tensor:
        """Blend ``value`` (``(1, C, H, W)``, the method's result for the frame whose grey
        levels are ``grey``) with the previous result; remember and return the blend. The
        flow is computed only when there is a previous result of the same shape to carry."""
        out = value
        if self.alpha > 0 and self.prev_out is not None and self.prev_out.shape == value.shape:
            pair = self.flow(grey)
            if pair is not None:
                warped, mask = pair.warp_previous(self.prev_out.to(value.device))
                out = value + self.alpha * mask.to(value) * (warped - value)
        self.prev_grey, self.prev_out = grey, out.detach()
        return out

    def state(self) -> dict[str, torch.Tensor]:
        if self.prev_grey is None or self.prev_out is None:
            return {}
        return {"grey": torch.from_numpy(self.prev_grey.copy()), "out": self.prev_out.cpu()}

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        if "grey" in state:
            self.prev_grey = state["grey"].numpy().astype(np.uint8)
            self.prev_out = state["out"]


class BlendedFrames:
    """Base of the frame processors (:class:`photogen.core.videojob.FrameProcessor`) whose
    result is a per-frame method's output carried by :class:`TemporalBlend`: it holds the
    blend (None with ``temporal`` off) and carries its state across a resumed video."""

    def __init__(self, temporal: bool = True, alpha: float = 0.6):
        self.blend = TemporalBlend(alpha) if temporal else None

    def carry(self, grey: np.ndarray, out: torch.Tensor) -> torch.Tensor:
        """``out`` blended with the previous result (as it is with the blend off)."""
        return out if self.blend is None else self.blend.step(grey, out)

    def state(self) -> dict[str, torch.Tensor]:
        return self.blend.state() if self.blend is not None else {}

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        if self.blend is not None:
            self.blend.load_state(state)
