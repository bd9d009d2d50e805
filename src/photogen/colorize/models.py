"""Colorization networks with the official parameter names and shapes.

``eccv16`` is the network of Zhang, Isola, Efros 2016 as released (``model1.0.weight`` ...
``model8.6.bias``, ``model_out.weight``: 32,236,011 parameters), so the released
``colorization_release_v2-9b330a0b.pth`` loads with ``strict=True``. Its forward takes L in
[0, 100] ``(B, 1, H, W)`` and returns ab ``(B, 2, H, W)``: logits at 1/4 resolution, softmax
with an annealing temperature, the 1x1 ``model_out`` convolution holding the 313 bin centres
(the annealed mean), x110 and bilinear x4. With ``temperature=1`` it is the released module.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from photogen.core.weights import WeightsEntry, load_state_dict, register

register(
    WeightsEntry(
        name="eccv16",
        filename="colorization_release_v2-9b330a0b.pth",
        url="https://colorizers.s3.us-east-2.amazonaws.com/colorization_release_v2-9b330a0b.pth",
        sha256="9b330a0b",
        description="Zhang et al. 2016 colorization (ECCV), official release",
    )
)
register(
    WeightsEntry(
        name="siggraph17",
        filename="siggraph17-df00044c.pth",
        url="https://colorizers.s3.us-east-2.amazonaws.com/siggraph17-df00044c.pth",
        sha256="df00044c",
        description="Zhang et al. 2017 interactive colorization (SIGGRAPH), official release",
    )
)


def _convs(cin: int, cout: int, n: int, last_stride: int = 1, dilation: int = 1) -> list[nn.Module]:
    """n 3x3 conv+ReLU pairs (the last with ``last_stride``), then batch norm."""
    layers: list[nn.Module] = []
    for i in range(n):
        stride = last_stride if i == n - 1 else 1
        layers += [
            nn.Conv2d(cin if i == 0 else cout, cout, 3, stride, dilation, dilation, bias=True),
            nn.ReLU(True),
        ]
    return layers + [nn.BatchNorm2d(cout)]


class ECCV16(nn.Module):
    """Zhang et al. 2016 colorization network (official layout), annealed-mean decoding.

    Args:
        temperature: annealing temperature T of the softmax (0.38 in the paper; 1 = mean).
    """

    def __init__(self, temperature: float = 0.38):
        super().__init__()
        self.temperature = temperature
        self.model1 = nn.Sequential(*_convs(1, 64, 2, last_stride=2))
        self.model2 = nn.Sequential(*_convs(64, 128, 2, last_stride=2))
        self.model3 = nn.Sequential(*_convs(128, 256, 3, last_stride=2))
        self.model4 = nn.Sequential(*_convs(256, 512, 3))
        self.model5 = nn.Sequential(*_convs(512, 512, 3, dilation=2))
        self.model6 = nn.Sequential(*_convs(512, 512, 3, dilation=2))
        self.model7 = nn.Sequential(*_convs(512, 512, 3))
        self.model8 = nn.Sequential(
            nn.ConvTranspose2d(512, 256, 4, 2, 1, bias=True),
            nn.ReLU(True),
            nn.Conv2d(256, 256, 3, 1, 1, bias=True),
            nn.ReLU(True),
            nn.Conv2d(256, 256, 3, 1, 1, bias=True),
            nn.ReLU(True),
            nn.Conv2d(256, 313, 1, 1, 0, bias=True),
        )
        self.model_out = nn.Conv2d(313, 2, 1, 1, 0, bias=False)

    def logits(self, l_channel: torch.Tensor) -> torch.Tensor:
        """``(B, 1, H, W)`` L in [0, 100] -> ``(B, 313, H/4, W/4)`` bin logits."""
        if l_channel.dim() != 4 or l_channel.shape[1] != 1:
            raise ValueError(f"L must be (B, 1, H, W), got {tuple(l_channel.shape)}")
        x = (l_channel - 50.0) / 100.0
        for block in (self.model1, self.model2, self.model3, self.model4):
            x = block(x)
        for block in (self.model5, self.model6, self.model7, self.model8):
            x = block(x)
        return x

    def forward(self, l_channel: torch.Tensor) -> torch.Tensor:
        """``(B, 1, H, W)`` L in [0, 100] -> ``(B, 2, H, W)`` ab (H, W multiples of 8)."""
        probs = torch.softmax(self.logits(l_channel) / self.temperature, dim=1)
        ab = self.model_out(probs) * 110.0
        return F.interpolate(ab, scale_factor=4, mode="bilinear", align_corners=False)


def eccv16(weights: str | None = "eccv16", temperature: float = 0.38) -> ECCV16:
    """The ECCV16 network in eval mode; ``weights`` is a registry name, a path, or None."""
    model = ECCV16(temperature=temperature)
    if weights is not None:
        model.load_state_dict(load_state_dict(weights), strict=True)
    return model.eval()
