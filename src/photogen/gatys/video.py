"""Style transfer for video (Ruder, Dosovitskiy, Brox 2016, "Artistic style transfer for
videos", GCPR).

Frame t is optimised from the stylised frame t-1 warped onto it by optical flow (DIS, on the
input frames) instead of from the content, with a short-term temporal loss that keeps it
close to that warped frame where the flow is reliable (occlusions and motion boundaries by
the paper's forward-backward test, :func:`photogen.core.flow.reliable`). Without
``temporal`` every frame is an independent :func:`stylize` from its content (the baseline the
paper compares with: strokes jump from frame to frame).
"""

from __future__ import annotations

from dataclasses import replace

import torch

from photogen.core.flow import FlowPair
from photogen.core.temporal import PHOTOMETRIC, flow_grey
from photogen.core.video import Frame
from photogen.gatys.style import StyleConfig, stylize
from photogen.nets.features import NETWORKS, FeatureExtractor, build_network

# Ruder's lambda for our normalised losses: on a pan, 2e4 halved the warping error, 2e5 cut
# it 6x with the colourfulness within 8% (benchmarks/video.py)
TEMPORAL_WEIGHT = 2e5


class StylizeFrames:
    """A :class:`photogen.core.videojob.FrameProcessor` that stylises each frame."""

    def __init__(self, styles: list[torch.Tensor], config: StyleConfig, temporal: bool = True,
                 temporal_weight: float = TEMPORAL_WEIGHT, device: str | torch.device = "cpu",
                 extractor: FeatureExtractor | None = None):  # fmt: skip
        self.styles, self.temporal, self.weight = styles, temporal, temporal_weight
        self.config = replace(config, levels=config.levels or 1)
        self.device = torch.device(device)
        if extractor is None:
            spec = NETWORKS[config.network]
            layers = [*(config.style_layers or spec.style_layers),
                      config.content_layer or spec.content_layer]  # fmt: skip
            extractor = FeatureExtractor(build_network(config.network), layers).to(self.device)
        self.extractor = extractor
        self.prev_grey = None
        self.prev_out: torch.Tensor | None = None

    def __call__(self, frame: Frame) -> torch.Tensor:
        grey = flow_grey(frame.image)
        init = temporal = None
        if self.temporal and self.prev_out is not None and self.prev_grey.shape == grey.shape:
            warped, mask = FlowPair(self.prev_grey, grey, photometric=PHOTOMETRIC).warp_previous(
                self.prev_out,
                "bicubic",  # bilinear blurs a little more at every frame
            )
            # where the flow cannot be trusted (disocclusions, movers) start from the frame
            # itself, as a per-frame run does, not from a ghost of what was there
            content = torch.nn.functional.interpolate(frame.image, size=warped.shape[-2:],
                                                      mode="area")  # fmt: skip
            warped = warped.clamp(0, 1)
            init = mask * warped + (1 - mask) * content
            temporal = (warped, mask, self.weight)
        result = stylize(frame.image, self.styles, self.config, self.extractor, self.device,
                         init_image=init, temporal=temporal)  # fmt: skip
        self.prev_grey, self.prev_out = grey, result.image
        return result.image

    def state(self) -> dict[str, torch.Tensor]:
        if self.prev_out is None:
            return {}
        return {"grey": torch.from_numpy(self.prev_grey.copy()), "out": self.prev_out}

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        if "grey" in state:
            self.prev_grey = state["grey"].numpy()
            self.prev_out = state["out"]
