"""pix2pix on video and on a camera ("Learning to See", Memo Akten 2017).

Each frame goes through the generator as a photo does: resized to the model's side, its
input made by the same builder its training pairs used when ``transform`` is given (edges,
grey, blur: :func:`photogen.pix2pix.pairs.make_input`), and the same dropout seed for every
frame (the paper keeps dropout at test time; a new mask per frame would make the picture
jump even on a still scene), with per-image normalisation as for a single photo. With
``temporal`` the output is also blended with the previous output carried by optical flow
where it is reliable (:mod:`photogen.core.temporal`): the coherence option, measured in
``benchmarks/video.py``.
"""

from __future__ import annotations

import torch

from photogen.core.engines import compile_module
from photogen.core.resample import resize
from photogen.core.temporal import BlendedFrames, flow_grey
from photogen.core.video import Frame
from photogen.pix2pix.data import from_model, to_model
from photogen.pix2pix.infer import BatchTranslator
from photogen.pix2pix.pairs import KINDS, make_input

TRANSFORMS = ("none", *KINDS)


def model_input(image: torch.Tensor, size: int, transform: str = "none") -> torch.Tensor:
    """``(1, 3, H, W)`` frame -> the generator's ``(1, 3, size, size)`` input in [-1, 1]."""
    if transform not in TRANSFORMS:
        raise ValueError(f"transform must be one of {', '.join(TRANSFORMS)}, got {transform!r}")
    small = resize(image[:, :3], size, "bicubic")
    if transform != "none":
        small = make_input(transform, small)
        if small.shape[1] == 1:
            small = small.expand(-1, 3, -1, -1)
    return small, to_model(small)


def _in_channels(model: torch.nn.Module) -> int:
    return next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d)).in_channels


class Pix2PixFrames(BlendedFrames):
    """A :class:`photogen.core.videojob.FrameProcessor` that translates each frame."""

    def __init__(self, translator: BatchTranslator, size: int = 256, seed: int = 0,
                 transform: str = "none", temporal: bool = True, alpha: float = 0.6,
                 keep_size: bool = True, engine: str = "torch",
                 precision: str | None = None):  # fmt: skip
        self.translator, self.size, self.seed = translator, size, seed
        self.transform, self.keep_size = transform, keep_size
        super().__init__(temporal, alpha)
        # one fixed dropout mask for every frame: the generator with its masks as constants
        # (the same function as translator(x, [seed]), and exportable to other engines)
        frozen = translator.frozen(size, seed)
        example = torch.zeros(1, _in_channels(frozen), size, size)
        self.run = compile_module(frozen.to(translator.device), example.to(translator.device),
                                  engine, precision=precision or translator.precision)  # fmt: skip

    def translate(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(input shown, output)`` for one frame, both ``(1, 3, size, size)`` in [0, 1]."""
        shown, x = model_input(image, self.size, self.transform)
        device = self.translator.device
        return shown, from_model(self.run(x.to(device)).float().cpu())

    def __call__(self, frame: Frame) -> torch.Tensor:
        _, out = self.translate(frame.image)
        if self.blend is not None:
            out = self.carry(flow_grey(resize(frame.image, self.size, "bicubic")), out)
        if self.keep_size:
            out = resize(out, tuple(frame.image.shape[-2:]), "bicubic")
        return out
