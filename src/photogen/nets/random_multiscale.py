"""Random-filter texture features (Ustyuzhaninov, Brendel, Gatys, Bethge 2017), no weights.

The paper shows that a single layer of *random* convolution filters of several sizes gives
Gram-matrix textures close to VGG's. Its faithful model (8 sizes up to 55x55, 128 filters
each) costs several VGG19s per step; we apply small random filters to an image pyramid
instead, which covers the same spatial scales cheaply: level ``s`` sees the image
downsampled ``2**s`` times, so a 5x5 filter there spans ``5 * 2**s`` source pixels.

Named activations: ``scale0`` ... ``scale{levels-1}`` (rectified filter responses).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from photogen.nets.base import FeatureNet


class RandomMultiscale(FeatureNet):
    """Random rectified filters on an image pyramid.

    Args:
        levels: pyramid levels (each halves the resolution).
        kernel_sizes: filter sizes applied at every level.
        filters: filters per size.
        seed: the filters are a pure function of the seed.
    """

    def __init__(
        self,
        levels: int = 5,
        kernel_sizes: tuple[int, ...] = (3, 5, 7),
        filters: int = 128,
        seed: int = 0,
    ):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.levels = levels
        self.kernel_sizes = kernel_sizes
        for k in kernel_sizes:
            w = torch.randn(filters, 3, k, k, generator=gen)
            w -= w.mean(dim=(1, 2, 3), keepdim=True)  # zero-mean: respond to structure, not colour
            w /= w.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
            self.register_buffer(f"w{k}", w)
        self.pad_mode = "reflect"
        self.layer_names = [f"scale{i}" for i in range(levels)]

    @staticmethod
    def normalize(x: torch.Tensor) -> torch.Tensor:
        """Centre the [0, 1] input so the zero-mean filters see signed contrast."""
        return x - 0.5

    def extract(self, x: torch.Tensor, layers: set[str] | list[str]) -> dict[str, torch.Tensor]:
        """Named activations of ``x`` (``[0, 1]`` sRGB)."""
        wanted = self.wanted_layers(layers)
        out: dict[str, torch.Tensor] = {}
        h = self.normalize(x)
        for level in range(self.levels):
            if f"scale{level}" in wanted:
                maps = []
                for k in self.kernel_sizes:
                    p = k // 2
                    mode = self.pad_mode if min(h.shape[-2:]) > p else "replicate"
                    maps.append(F.conv2d(F.pad(h, (p, p, p, p), mode=mode), getattr(self, f"w{k}")))
                out[f"scale{level}"] = F.relu(torch.cat(maps, dim=1))
                if len(out) == len(wanted):
                    break
            h = F.avg_pool2d(h, 2, ceil_mode=True)
        return out


def random_multiscale(seed: int = 0, **kwargs) -> RandomMultiscale:
    """A :class:`RandomMultiscale` feature network in eval mode."""
    return RandomMultiscale(seed=seed, **kwargs).eval()
