"""DeepDream on video frames: each frame dreamt with the same settings and the same jitter
sequence (one seed), then the flow-carried temporal blend of :mod:`photogen.core.temporal`
(what a frame dreamt alone shows anew is pulled towards the previous dream carried along the
motion, where the flow is reliable), whose state a resumed video carries."""

from __future__ import annotations

import torch

from photogen.core.temporal import BlendedFrames, flow_grey
from photogen.core.video import Frame
from photogen.dream.dream import DreamConfig, dream
from photogen.nets.features import FeatureExtractor, build_network


class DreamFrames(BlendedFrames):
    """A :class:`photogen.core.videojob.FrameProcessor` that dreams each frame."""

    def __init__(self, config: DreamConfig, extractor: FeatureExtractor | None = None,
                 guide: torch.Tensor | None = None, temporal: bool = True, alpha: float = 0.6,
                 device: torch.device | str = "cpu"):  # fmt: skip
        super().__init__(temporal, alpha)
        config.validate()
        self.config, self.guide, self.device = config, guide, torch.device(device)
        if extractor is None:
            extractor = FeatureExtractor(build_network(config.network), [config.layer])
        self.extractor = extractor.to(self.device)

    def __call__(self, frame: Frame) -> torch.Tensor:
        image = frame.image[:, :3]
        out = dream(image, self.config, self.extractor, self.guide, self.device).image
        return self.carry(flow_grey(image), out)
