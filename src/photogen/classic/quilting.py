"""Image quilting (Efros & Freeman, SIGGRAPH 2001): the fast classical synthesis.

The output is tiled in raster order with ``block`` x ``block`` patches of the example that
overlap their left and top neighbours by ``overlap`` pixels (default block / 6, as in the
paper). Each new block is drawn uniformly among the example blocks whose SSD over the overlap
is within ``(1 + tolerance)`` of the best (paper: 0.1), then cut along the minimum-error
boundary through the overlap (dynamic programming), so seams follow the texture.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from photogen.core.device import single_thread


@dataclass
class QuiltingConfig:
    block: int = 32
    overlap: int | None = None  # None = block // 6
    tolerance: float = 0.1
    max_blocks: int = 20_000  # example blocks kept (positions on a stride beyond this)
    seed: int = 0

    def resolved_overlap(self) -> int:
        o = self.block // 6 if self.overlap is None else self.overlap
        if not 1 <= o < self.block:
            raise ValueError(f"overlap must be in [1, block), got {o} for block {self.block}")
        return o


def min_cut_path(err: torch.Tensor) -> torch.Tensor:
    """Column index, per row, of the minimum-cost top-to-bottom path through ``err (H, W)``
    moving at most one column per row (Efros & Freeman, section 2.1)."""
    h, w = err.shape
    cost = err.clone()
    back = torch.zeros(h, w, dtype=torch.long)
    big = torch.full((1,), float("inf"), dtype=err.dtype)
    for i in range(1, h):
        prev = cost[i - 1]
        choices = torch.stack([torch.cat([big, prev[:-1]]), prev, torch.cat([prev[1:], big])])
        best, arg = choices.min(0)
        cost[i] += best
        back[i] = torch.arange(w) + arg - 1
    path = torch.empty(h, dtype=torch.long)
    path[-1] = cost[-1].argmin()
    for i in range(h - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    return path


def _cut_mask(err: torch.Tensor) -> torch.Tensor:
    """True where the new block is kept: right of the cut through ``err (H, O)``."""
    path = min_cut_path(err)
    return torch.arange(err.shape[1])[None, :] >= path[:, None]


def quilt(
    example: torch.Tensor,
    size: tuple[int, int],
    cfg: QuiltingConfig | None = None,
    progress: Callable[[int], None] | None = None,
) -> torch.Tensor:
    """A ``size`` texture from ``example (1, C, H, W)``; returns ``(1, C, h, w)``."""
    with single_thread():  # hundreds of small ops per block
        return _quilt(example, size, cfg or QuiltingConfig(), progress)


def _quilt(example, size, cfg: QuiltingConfig, progress) -> torch.Tensor:
    b, o = cfg.block, cfg.resolved_overlap()
    ex = example[0]
    c, eh, ew = ex.shape
    if min(eh, ew) < b:
        raise ValueError(f"example {eh}x{ew} is smaller than the block {b}")
    positions = (eh - b + 1) * (ew - b + 1)
    stride = max(1, int((positions / cfg.max_blocks) ** 0.5 + 0.999))
    blocks = F.unfold(ex[None], b, stride=stride)[0].T.reshape(-1, c, b, b).contiguous()
    left = blocks[:, :, :, :o].reshape(len(blocks), -1)
    top = blocks[:, :, :o, :].reshape(len(blocks), -1)
    left_sq, top_sq = (left * left).sum(1), (top * top).sum(1)
    step = b - o
    h, w = size
    ny, nx = max(1, -(-(h - o) // step)), max(1, -(-(w - o) // step))
    out = torch.zeros(c, o + ny * step, o + nx * step, dtype=ex.dtype)
    gen = torch.Generator().manual_seed(cfg.seed)
    for i in range(ny):
        for j in range(nx):
            y, x = i * step, j * step
            region = out[:, y : y + b, x : x + b]
            if i == 0 and j == 0:
                pick = int(torch.randint(len(blocks), (1,), generator=gen))
                region.copy_(blocks[pick])
                continue
            err = torch.zeros(len(blocks), dtype=ex.dtype)
            if j > 0:
                t = region[:, :, :o].reshape(-1)
                err += left_sq - 2 * left @ t + t @ t
            if i > 0:
                t = region[:, :o, :].reshape(-1)
                err += top_sq - 2 * top @ t + t @ t
            best = err.min()
            ok = err <= best + cfg.tolerance * best.clamp(min=0) + 1e-9
            pick = int(torch.multinomial(ok.to(torch.float32), 1, generator=gen))
            new = blocks[pick]
            keep = torch.ones(b, b, dtype=torch.bool)
            if j > 0:
                e = ((new[:, :, :o] - region[:, :, :o]) ** 2).sum(0)
                keep[:, :o] &= _cut_mask(e)
            if i > 0:
                e = ((new[:, :o, :] - region[:, :o, :]) ** 2).sum(0)
                keep[:o, :] &= _cut_mask(e.T).T
            region.copy_(torch.where(keep, new, region))
            if progress is not None:
                progress(1)
    return out[None, :, :h, :w].contiguous()
