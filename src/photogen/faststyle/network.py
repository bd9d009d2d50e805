"""The image transformation network of Johnson, Alahi & Fei-Fei 2016, as the PyTorch examples
use it: a 9x9 convolution, two stride-2 convolutions down, residual blocks, two up-sampling
steps by resize-convolution (nearest x2, then a convolution: no checkerboard, Odena et al.
2016), a 9x9 convolution back to RGB; instance normalisation throughout (Ulyanov et al. 2016
found it better than batch normalisation for style), reflection padding.

The paper's size (32-64-128 channels, 5 residual blocks) costs about 10 G multiply-adds at
256x256, more than two CPU cores run 25 times a second; ``FastStyleConfig()`` defaults to a
slimmer network (16-32-64, 3 blocks), ``FastStyleConfig.paper()`` to the paper's.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class FastStyleConfig:
    """Widths of the three stages and the number of residual blocks."""

    channels: tuple[int, int, int] = (16, 32, 64)
    blocks: int = 3

    @classmethod
    def paper(cls) -> FastStyleConfig:
        return cls((32, 64, 128), 5)

    def to_dict(self) -> dict:
        return {"channels": list(self.channels), "blocks": self.blocks}

    @classmethod
    def from_dict(cls, d: dict) -> FastStyleConfig:
        return cls(tuple(int(c) for c in d["channels"]), int(d["blocks"]))


class _Norm(nn.InstanceNorm2d):
    """Instance normalisation that can also record its statistics on one picture and then use
    those on others (the tiles of a large picture: they agree, so no seam shows)."""

    def __init__(self, c: int):
        super().__init__(c, affine=True)
        self.mode: str | None = None  # None, "record" or "fixed"
        self.stats: tuple[torch.Tensor, torch.Tensor] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode is None:
            return super().forward(x)
        if self.mode == "record":
            self.stats = (x.mean((2, 3), keepdim=True), x.var((2, 3), keepdim=True,
                                                              unbiased=False))  # fmt: skip
        mean, var = self.stats
        scale = self.weight[None, :, None, None] / torch.sqrt(var + self.eps)
        return (x - mean) * scale + self.bias[None, :, None, None]


def _conv(cin: int, cout: int, k: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.ReflectionPad2d(k // 2), nn.Conv2d(cin, cout, k, stride))


class _Residual(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.body = nn.Sequential(
            _conv(c, c, 3), _Norm(c), nn.ReLU(inplace=True),
            _conv(c, c, 3), _Norm(c),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class _Up(nn.Module):
    """Resize-convolution: nearest-neighbour x2, then a 3x3 convolution."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = _conv(cin, cout, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(nn.functional.interpolate(x, scale_factor=2, mode="nearest"))


class TransformNet(nn.Module):
    """``(B, 3, H, W)`` sRGB in [0, 1] -> the stylised picture in (0, 1), same size (any H,
    W)."""

    def __init__(self, config: FastStyleConfig | None = None):
        super().__init__()
        self.config = config or FastStyleConfig()
        c1, c2, c3 = self.config.channels

        def norm_relu(c: int) -> list[nn.Module]:
            return [_Norm(c), nn.ReLU(inplace=True)]

        self.down = nn.Sequential(
            _conv(3, c1, 9), *norm_relu(c1),
            _conv(c1, c2, 3, 2), *norm_relu(c2),
            _conv(c2, c3, 3, 2), *norm_relu(c3),
        )  # fmt: skip
        self.res = nn.Sequential(*[_Residual(c3) for _ in range(self.config.blocks)])
        self.up = nn.Sequential(
            _Up(c3, c2), *norm_relu(c2),
            _Up(c2, c1), *norm_relu(c1),
            _conv(c1, 3, 9),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        ph, pw = (-h) % 4, (-w) % 4  # two stride-2 steps: pad to a multiple of 4
        if ph or pw:
            x = nn.functional.pad(x, (0, pw, 0, ph), mode="reflect")
        # bounded output (Johnson et al. end with a scaled tanh): unbounded, the network made
        # saturated blobs, values far outside [0, 1] that the losses never saw clipped
        return torch.sigmoid(self.up(self.res(self.down(x)))[..., :h, :w])

    def _norms(self) -> list[_Norm]:
        return [m for m in self.modules() if isinstance(m, _Norm)]

    @torch.no_grad()
    def stylize(self, image: torch.Tensor, tile: int = 512, stats_side: int = 1024,
                margin: int = 48) -> torch.Tensor:  # fmt: skip
        """Any size in bounded memory: a picture larger than ``tile`` goes in tiles, each
        computed with ``margin`` pixels of real context around it (more than the network's
        receptive field, so a tile's centre is what one pass would give), all with the
        instance-normalisation statistics of one pass over the picture shrunk to
        ``stats_side`` (so the tiles agree: no seam). ``(1, 3, H, W)`` in [0, 1]."""
        was = self.training
        self.eval()
        try:
            h, w = image.shape[-2:]
            if max(h, w) <= tile:
                return self(image)
            s = min(1.0, stats_side / max(h, w))
            small = image if s == 1.0 else nn.functional.interpolate(
                image, size=(max(8, round(h * s)), max(8, round(w * s))), mode="area")  # fmt: skip
            for m in self._norms():
                m.mode = "record"
            self(small)
            for m in self._norms():
                m.mode = "fixed"
            out = torch.empty(1, 3, h, w, dtype=image.dtype)
            for y in range(0, h, tile):
                for x in range(0, w, tile):
                    y0, x0 = max(0, y - margin), max(0, x - margin)
                    y1, x1 = min(h, y + tile + margin), min(w, x + tile + margin)
                    part = self(image[..., y0:y1, x0:x1])
                    th, tw = min(tile, h - y), min(tile, w - x)
                    out[..., y : y + th, x : x + tw] = part[..., y - y0 : y - y0 + th,
                                                            x - x0 : x - x0 + tw].cpu()  # fmt: skip
            return out
        finally:
            for m in self._norms():
                m.mode, m.stats = None, None
            self.train(was)
