"""Pyramid-based texture analysis/synthesis (Heeger & Bergen, SIGGRAPH 1995).

The example is decomposed into a Laplacian pyramid (bands 0..levels-1 plus the low-pass
residual; Burt & Adelson's 5-tap kernel, circular boundaries, so outputs tile). Starting from
noise, every iteration matches the histogram of each band of the synthetic image to the
example's band, collapses the pyramid and matches the pixel histogram; the texture improves
with each iteration (the paper's Fig. 2 shows iterations 0..5). Colour: the example's channels
are decorrelated by PCA, each principal channel is synthesised on its own, then rotated back.
Histogram matching is exact (:func:`photogen.core.color.match_histograms`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from photogen.core.color import match_histograms

_K = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0


@dataclass
class HeegerBergenConfig:
    levels: int = 4  # band-pass levels (0..levels-1) before the low-pass residual
    iterations: int = 5
    seed: int = 0


def _blur(x: torch.Tensor) -> torch.Tensor:
    """Separable 5-tap binomial blur with circular boundaries; ``x (N, 1, H, W)``."""
    k = _K.to(x.dtype)
    x = F.conv2d(F.pad(x, (2, 2, 0, 0), mode="circular"), k.view(1, 1, 1, 5))
    return F.conv2d(F.pad(x, (0, 0, 2, 2), mode="circular"), k.view(1, 1, 5, 1))


def _down(x: torch.Tensor) -> torch.Tensor:
    return _blur(x)[..., ::2, ::2]


def _up(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    up = torch.zeros(*x.shape[:2], 2 * x.shape[-2], 2 * x.shape[-1], dtype=x.dtype)
    up[..., ::2, ::2] = x
    return (4 * _blur(up))[..., : size[0], : size[1]]


def laplacian_pyramid(x: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """``x (N, 1, H, W)`` -> ``levels`` band-pass images and the low-pass residual."""
    bands, g = [], x
    for _ in range(levels):
        if min(g.shape[-2:]) < 4:
            break
        low = _down(g)
        bands.append(g - _up(low, g.shape[-2:]))
        g = low
    return [*bands, g]


def usable_levels(shape: tuple[int, int], levels: int) -> int:
    """How many of ``levels`` band levels :func:`laplacian_pyramid` makes for ``shape``."""
    h, w, k = shape[0], shape[1], 0
    while k < levels and min(h, w) >= 4:
        h, w, k = (h + 1) // 2, (w + 1) // 2, k + 1
    return k


def collapse(bands: list[torch.Tensor]) -> torch.Tensor:
    """Inverse of :func:`laplacian_pyramid` (exact up to rounding)."""
    g = bands[-1]
    for band in reversed(bands[:-1]):
        g = band + _up(g, band.shape[-2:])
    return g


def pca_basis(example: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean ``(C,)`` and orthonormal eigenvectors ``(C, C)`` of the example's colours."""
    flat = example[0].reshape(example.shape[1], -1).double()
    mean = flat.mean(1)
    cov = torch.cov(flat)
    _, vecs = torch.linalg.eigh(cov)
    return mean.to(example.dtype), vecs.to(example.dtype)


def synthesize(
    example: torch.Tensor,
    size: tuple[int, int],
    cfg: HeegerBergenConfig | None = None,
    callback: Callable[[int, torch.Tensor], None] | None = None,
    clamp: bool = True,
) -> torch.Tensor:
    """A ``size`` texture from ``example (1, C, H, W)`` in [0, 1]; returns ``(1, C, h, w)``.

    ``callback(iteration, image)`` sees iteration 0 (histogram-matched noise) to N. With
    ``clamp`` off the result is not clipped to [0, 1] after the rotation back from PCA.
    """
    cfg = cfg or HeegerBergenConfig()
    if cfg.levels < 0 or cfg.iterations < 0:
        raise ValueError("levels and iterations must be >= 0")
    c = example.shape[1]
    mean, vecs = pca_basis(example)
    to_pca = lambda img: torch.einsum("kc,nchw->nkhw", vecs.T, img - mean.view(1, c, 1, 1))  # noqa: E731
    from_pca = lambda img: torch.einsum("ck,nkhw->nchw", vecs, img) + mean.view(1, c, 1, 1)  # noqa: E731
    ex = to_pca(example).transpose(0, 1)  # (C, 1, H, W): one principal channel per item
    levels = min(usable_levels(size, cfg.levels), usable_levels(ex.shape[-2:], cfg.levels))
    ex_bands = laplacian_pyramid(ex, levels)
    gen = torch.Generator().manual_seed(cfg.seed)
    noise = torch.randn(c, 1, *size, generator=gen, dtype=example.dtype)
    x = match_histograms(noise, ex)
    if callback is not None:
        callback(0, from_pca(x.transpose(0, 1)).clamp(0, 1))
    for it in range(1, cfg.iterations + 1):
        bands = laplacian_pyramid(x, levels)
        bands = [match_histograms(b, e) for b, e in zip(bands, ex_bands, strict=True)]
        x = match_histograms(collapse(bands), ex)
        if callback is not None:
            callback(it, from_pca(x.transpose(0, 1)).clamp(0, 1))
    out = from_pca(x.transpose(0, 1))
    return out.clamp(0, 1) if clamp else out


def iteration_strip(images: list[torch.Tensor], gap: int = 4) -> torch.Tensor:
    """Iterations 0..N (``(1, C, H, W)`` each) side by side with white gaps, as in the paper's
    figure."""
    return torch.cat([F.pad(x, (0, gap), value=1.0) for x in images], -1)
