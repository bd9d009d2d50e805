"""Sampling and completion with a PixelCNN: the naive sampler and the fast, cached one.

Both visit pixels in raster order and draw the same uniforms (``C + 1`` per pixel from one
seeded generator), so they give the same images for the same seed; the fast one only computes
what a new pixel changes (in the spirit of Ramachandran et al. 2017, "Fast Generation for
Convolutional Autoregressive Models"):

- the vertical stack runs once per row, on the ``kernel//2 + 1`` rows it needs, when the row
  above is complete;
- the horizontal stack runs at the new pixel only, one column per layer, from cached outputs
  of the pixels to its left and the cached vertical pre-activations of the row above.

A softmax model needs one pass per channel (G depends on the pixel's R, B on R and G); a
logistic-mixture model one pass to sample the whole pixel and one to update the caches.
The naive sampler reruns the whole network on the whole image for every pass.

Completion: pixels where ``mask`` is True are kept; the others are sampled in raster order,
conditioned on everything (visible or sampled) before them.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from photogen.pixelcnn.logistic import mixture_sample
from photogen.pixelcnn.model import PixelCNN


def _draw(model: PixelCNN, out: torch.Tensor, c: int | None, u: torch.Tensor, t: float):
    """Sample from the network output at one pixel: channel ``c`` (softmax) or all (mixture)."""
    cfg = model.config
    if cfg.output == "softmax":
        probs = torch.softmax(out[:, c].double() / t, dim=1)  # (n, levels)
        level = torch.searchsorted(probs.cumsum(1), u[:, c : c + 1].double())
        return level.clamp(max=cfg.levels - 1)[:, 0]
    return mixture_sample(out.double(), cfg.channels, cfg.levels, u.double(), t)


def _setup(model, n, size, known, mask, seed):
    cfg = model.config
    h, w = size
    x = torch.zeros(n, cfg.channels, h, w, dtype=torch.long)
    keep = torch.zeros(h, w, dtype=torch.bool)
    if known is not None:
        x[:] = known.long().expand(n, -1, -1, -1)
        keep = mask.bool() if mask is not None else torch.ones(h, w, dtype=torch.bool)
    gen = torch.Generator().manual_seed(seed)
    return x, keep, gen


@torch.inference_mode()
def sample_naive(
    model: PixelCNN,
    n: int,
    size: tuple[int, int],
    temperature: float = 1.0,
    seed: int = 0,
    y: torch.Tensor | None = None,
    known: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
    progress: Callable | None = None,
) -> torch.Tensor:
    """Images ``(n, C, H, W)`` of integer levels, the whole network per pass."""
    model.eval()
    cfg = model.config
    x, keep, gen = _setup(model, n, size, known, mask, seed)
    device = next(model.parameters()).device
    passes = list(range(cfg.channels)) if cfg.output == "softmax" else [None]
    for i in range(size[0]):
        for j in range(size[1]):
            u = torch.rand(n, cfg.channels + 1, generator=gen)
            if keep[i, j]:
                continue
            for c in passes:
                out = model(x.to(device), y)[..., i, j].cpu()
                value = _draw(model, out, c, u, temperature)
                if c is None:
                    x[:, :, i, j] = value
                else:
                    x[:, c, i, j] = value
        if progress:
            progress(1)
    return x


class _Caches:
    """Per-layer buffers of the fast sampler."""

    def __init__(self, model: PixelCNN, n: int, h: int, w: int, device, dtype):
        cfg = model.config
        f = cfg.hidden
        zeros = lambda c, rows: torch.zeros(n, c, rows, w, device=device, dtype=dtype)  # noqa: E731
        self.xs = zeros(cfg.channels, h)  # the image, scaled to [-1, 1]
        self.v_out = [zeros(f, h) for _ in model.layers_]
        self.v_pre = [zeros(2 * f, h) for _ in model.layers_]
        self.h_row = [zeros(f, 1) for _ in model.layers_]


def _vertical_row(model: PixelCNN, cache: _Caches, r: int, y) -> None:
    """Vertical stack at row ``r`` (rows <= r complete), every layer."""
    for li, layer in enumerate(model.layers_):
        src = cache.xs if li == 0 else cache.v_out[li - 1]
        k2 = layer.kernel // 2
        rows = src[:, :, max(0, r - k2) : r + 1]
        rows = F.pad(rows, (0, 0, k2 + 1 - rows.shape[2], 0))
        gated, pre = layer.vertical_row(rows, y)
        cache.v_out[li][:, :, r : r + 1] = gated
        cache.v_pre[li][:, :, r : r + 1] = pre


def _horizontal_pixel(model: PixelCNN, cache: _Caches, i: int, j: int, y) -> torch.Tensor:
    """Horizontal stack at pixel (i, j) through every layer, caching it; returns the head."""
    for li, layer in enumerate(model.layers_):
        src = cache.xs[:, :, i : i + 1] if li == 0 else cache.h_row[li - 1]
        k2 = layer.kernel // 2
        cols = src[..., max(0, j - k2) : j + 1]
        cols = F.pad(cols, (k2 + 1 - cols.shape[-1], 0, 0, 0))
        # the row above's vertical pre-activation (zeros above the image, as in the forward)
        above = cache.v_pre[li][:, :, max(i - 1, 0) : i, j : j + 1]
        if i == 0:
            above = torch.zeros_like(cache.v_pre[li][:, :, :1, :1])
        cache.h_row[li][..., j : j + 1] = layer.horizontal_column(cols, above, y)
    return model.head_pixel(cache.h_row[-1][:, :, 0, j])


@torch.inference_mode()
def sample_fast(
    model: PixelCNN,
    n: int,
    size: tuple[int, int],
    temperature: float = 1.0,
    seed: int = 0,
    y: torch.Tensor | None = None,
    known: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
    progress: Callable | None = None,
) -> torch.Tensor:
    """Same images as :func:`sample_naive` for the same arguments, computing only what each new
    pixel changes."""
    threads = torch.get_num_threads()
    try:
        # One thread: the per-pixel work is thousands of tiny products, where waking a second
        # thread costs more than it saves (measured 5-50x slower with 2 threads).
        torch.set_num_threads(1)
        return _sample_fast(model, n, size, temperature, seed, y, known, mask, progress)
    finally:
        torch.set_num_threads(threads)


def _sample_fast(model, n, size, temperature, seed, y, known, mask, progress) -> torch.Tensor:
    model.eval()
    cfg = model.config
    x, keep, gen = _setup(model, n, size, known, mask, seed)
    param = next(model.parameters())
    cache = _Caches(model, n, size[0], size[1], param.device, param.dtype)
    cache.xs[:] = model.scale(x).to(param.device, param.dtype)
    softmax = cfg.output == "softmax"

    def pixel_out(i: int, j: int) -> torch.Tensor:
        out = _horizontal_pixel(model, cache, i, j, y)
        if softmax:
            return out.view(n, cfg.channels, cfg.levels).cpu()
        return out.cpu()

    def set_value(i: int, j: int, c: int | None, value: torch.Tensor) -> None:
        target = x[:, :, i, j] if c is None else x[:, c, i, j]
        target.copy_(value)
        scaled = model.scale(x[:, :, i, j]).to(param.device, param.dtype)
        cache.xs[:, :, i, j] = scaled

    todo = ~keep
    last_row = int(todo.any(1).nonzero().max()) if todo.any() else -1
    for i in range(size[0]):
        if i > last_row:  # nothing left to sample
            break
        if i > 0:
            _vertical_row(model, cache, i - 1, y)
        # Horizontal caches start afresh on each row: a row with nothing to sample (or the
        # known tail of one) needs none, only its uniforms drawn to stay in step.
        last_col = int(todo[i].nonzero().max()) if todo[i].any() else -1
        for j in range(size[1]):
            u = torch.rand(n, cfg.channels + 1, generator=gen)
            if j > last_col:
                continue
            if keep[i, j]:
                pixel_out(i, j)  # the caches at (i, j) see the known pixel
                continue
            if softmax:
                for c in range(cfg.channels):
                    set_value(i, j, c, _draw(model, pixel_out(i, j), c, u, temperature))
            else:
                set_value(i, j, None, _draw(model, pixel_out(i, j), None, u, temperature))
                pixel_out(i, j)  # features right of here see the whole pixel
        if progress:
            progress(1)
    return x


def sample(model: PixelCNN, n: int, size: tuple[int, int], fast: bool = True, **kw) -> torch.Tensor:
    """Sample ``n`` images of ``size`` (any size: the receptive field slides)."""
    return (sample_fast if fast else sample_naive)(model, n, size, **kw)


def complete(
    model: PixelCNN,
    image: torch.Tensor,
    mask: torch.Tensor,
    n: int,
    fast: bool = True,
    **kw,
) -> torch.Tensor:
    """``n`` completions of ``image`` ``(C, H, W)`` (integer levels): pixels where ``mask``
    ``(H, W)`` is True are kept, the others sampled."""
    size = tuple(image.shape[-2:])
    return sample(model, n, size, fast=fast, known=image, mask=mask, **kw)
