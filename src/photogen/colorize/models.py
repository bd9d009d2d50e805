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

from photogen.core.weights import WeightsEntry, load_state_dict

ECCV16_WEIGHTS = WeightsEntry(
    name="eccv16",
    filename="colorization_release_v2-9b330a0b.pth",
    url="https://colorizers.s3.us-east-2.amazonaws.com/colorization_release_v2-9b330a0b.pth",
    sha256="9b330a0b",
    description="Zhang et al. 2016 colorization (ECCV), official release",
)
SIGGRAPH17_WEIGHTS = WeightsEntry(
    name="siggraph17",
    filename="siggraph17-df00044c.pth",
    url="https://colorizers.s3.us-east-2.amazonaws.com/siggraph17-df00044c.pth",
    sha256="df00044c",
    description="Zhang et al. 2017 interactive colorization (SIGGRAPH), official release",
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

    def forward(self, l_channel: torch.Tensor, temperature: float | None = None) -> torch.Tensor:
        """``(B, 1, H, W)`` L in [0, 100] -> ``(B, 2, H, W)`` ab (H, W multiples of 8);
        ``temperature``: this call's (the module's own when None)."""
        t = self.temperature if temperature is None else temperature
        probs = torch.softmax(self.logits(l_channel) / t, dim=1)
        ab = self.model_out(probs) * 110.0
        return F.interpolate(ab, scale_factor=4, mode="bilinear", align_corners=False)


def eccv16(weights: str | None = "eccv16", temperature: float = 0.38) -> ECCV16:
    """The ECCV16 network in eval mode; ``weights`` is a registry name, a path, or None."""
    model = ECCV16(temperature=temperature)
    if weights is not None:
        model.load_state_dict(load_state_dict(weights), strict=True)
    return model.eval()


def _plain_convs(cin: int, cout: int, n: int, dilation: int = 1) -> list[nn.Module]:
    """n stride-1 3x3 conv+ReLU pairs, then batch norm (siggraph17 subsamples outside)."""
    return _convs(cin, cout, n, last_stride=1, dilation=dilation)


class SIGGRAPH17(nn.Module):
    """Zhang et al. 2017 ("Real-Time User-Guided Image Colorization"), official layout.

    Input: L ``(B, 1, H, W)`` in [0, 100], optional user hints: ab values ``(B, 2, H, W)``
    and a mask ``(B, 1, H, W)`` that is 1 where a hint is given (0 elsewhere; no hints = all
    zero, the automatic mode). Output: ab ``(B, 2, H, W)`` from the regression head (tanh x110);
    the 529-way classification head of the release is kept so its weights load, but not used.
    H and W must be multiples of 8.
    """

    def __init__(self, classes: int = 529):
        super().__init__()
        self.temperature = None  # regression output: no annealing
        self.model1 = nn.Sequential(*_plain_convs(4, 64, 2))
        self.model2 = nn.Sequential(*_plain_convs(64, 128, 2))
        self.model3 = nn.Sequential(*_plain_convs(128, 256, 3))
        self.model4 = nn.Sequential(*_plain_convs(256, 512, 3))
        self.model5 = nn.Sequential(*_plain_convs(512, 512, 3, dilation=2))
        self.model6 = nn.Sequential(*_plain_convs(512, 512, 3, dilation=2))
        self.model7 = nn.Sequential(*_plain_convs(512, 512, 3))
        self.model8up = nn.Sequential(nn.ConvTranspose2d(512, 256, 4, 2, 1, bias=True))
        self.model3short8 = nn.Sequential(nn.Conv2d(256, 256, 3, 1, 1, bias=True))
        self.model8 = nn.Sequential(
            nn.ReLU(True),
            nn.Conv2d(256, 256, 3, 1, 1, bias=True),
            nn.ReLU(True),
            nn.Conv2d(256, 256, 3, 1, 1, bias=True),
            nn.ReLU(True),
            nn.BatchNorm2d(256),
        )
        self.model9up = nn.Sequential(nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=True))
        self.model2short9 = nn.Sequential(nn.Conv2d(128, 128, 3, 1, 1, bias=True))
        self.model9 = nn.Sequential(
            nn.ReLU(True),
            nn.Conv2d(128, 128, 3, 1, 1, bias=True),
            nn.ReLU(True),
            nn.BatchNorm2d(128),
        )
        self.model10up = nn.Sequential(nn.ConvTranspose2d(128, 128, 4, 2, 1, bias=True))
        self.model1short10 = nn.Sequential(nn.Conv2d(64, 128, 3, 1, 1, bias=True))
        self.model10 = nn.Sequential(
            nn.ReLU(True), nn.Conv2d(128, 128, 3, 1, 1, bias=True), nn.LeakyReLU(0.2)
        )
        self.model_class = nn.Sequential(nn.Conv2d(256, classes, 1, 1, 0, bias=True))
        self.model_out = nn.Sequential(nn.Conv2d(128, 2, 1, 1, 0, bias=True), nn.Tanh())

    def forward(
        self,
        l_channel: torch.Tensor,
        hints_ab: torch.Tensor | None = None,
        hints_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if l_channel.dim() != 4 or l_channel.shape[1] != 1:
            raise ValueError(f"L must be (B, 1, H, W), got {tuple(l_channel.shape)}")
        if hints_ab is None:
            hints_ab = l_channel.new_zeros(l_channel.shape[0], 2, *l_channel.shape[2:])
        if hints_mask is None:
            hints_mask = torch.zeros_like(l_channel)
        if (
            hints_ab.shape[-2:] != l_channel.shape[-2:]
            or hints_mask.shape[-2:] != l_channel.shape[-2:]
        ):
            raise ValueError("hints must have the same height and width as L")
        x = torch.cat([(l_channel - 50.0) / 100.0, hints_ab / 110.0, hints_mask], dim=1)
        conv1 = self.model1(x)
        conv2 = self.model2(conv1[:, :, ::2, ::2])
        conv3 = self.model3(conv2[:, :, ::2, ::2])
        conv4 = self.model4(conv3[:, :, ::2, ::2])
        conv7 = self.model7(self.model6(self.model5(conv4)))
        conv8 = self.model8(self.model8up(conv7) + self.model3short8(conv3))
        conv9 = self.model9(self.model9up(conv8) + self.model2short9(conv2))
        conv10 = self.model10(self.model10up(conv9) + self.model1short10(conv1))
        return self.model_out(conv10) * 110.0


def siggraph17(weights: str | None = "siggraph17") -> SIGGRAPH17:
    """The SIGGRAPH17 network in eval mode; ``weights`` is a registry name, a path, or None."""
    model = SIGGRAPH17()
    if weights is not None:
        model.load_state_dict(load_state_dict(weights), strict=True)
    return model.eval()


def hints_from_points(
    points: list[tuple[int, int, float, float]], height: int, width: int, radius: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """User hints for :class:`SIGGRAPH17`: ``(y, x, a, b)`` points -> ab ``(1,2,H,W)``, mask.

    Each hint covers a ``(2 * radius + 1)`` square patch (the paper's hints are small patches
    of the mean ab colour there).
    """
    ab = torch.zeros(1, 2, height, width)
    mask = torch.zeros(1, 1, height, width)
    for y, x, a, b in points:
        if not (0 <= y < height and 0 <= x < width):
            raise ValueError(f"hint ({y}, {x}) is outside the {width}x{height} image")
        y0, y1 = max(0, y - radius), min(height, y + radius + 1)
        x0, x1 = max(0, x - radius), min(width, x + radius + 1)
        ab[0, 0, y0:y1, x0:x1] = a
        ab[0, 1, y0:y1, x0:x1] = b
        mask[0, 0, y0:y1, x0:x1] = 1.0
    return ab, mask


# the weights this module defines (read by core.weights.ENTRY_MODULES)
WEIGHTS = (
    ECCV16_WEIGHTS,
    SIGGRAPH17_WEIGHTS,
)
