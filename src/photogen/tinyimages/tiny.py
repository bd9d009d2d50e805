"""Tiny images and their distances (Torralba, Fergus, Freeman 2008, Sec. 3).

A tiny image is the picture reduced to 32x32 with an area filter, kept as ``uint8`` RGB (3,072
bytes). For matching, its colour version (3,072 values) or grey version (1,024: the mean of
R, G, B) is normalised to zero mean and unit norm; the distance is the sum of squared
differences ``D_ssd``, which for unit vectors is ``2 - 2 <a, b>``. ``D_warp`` is the minimum
of ``D_ssd`` over a horizontal flip and small shifts and scales of the query.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SIDE = 32


def tiny_image(image: torch.Tensor, side: int = SIDE) -> torch.Tensor:
    """``(1, 3, H, W)`` ``[0, 1]`` -> ``(3, side, side)`` ``uint8`` (area filter)."""
    small = F.interpolate(image.float(), size=(side, side), mode="area")[0]
    return (small.clamp(0, 1) * 255.0).round().to(torch.uint8)


def enlarge(tiles: torch.Tensor, factor: int = 4) -> torch.Tensor:
    """Tiny images shown ``factor`` times larger (nearest neighbour: the pixels stay visible)."""
    return tiles.repeat_interleave(factor, -1).repeat_interleave(factor, -2)


def grey(tiny: torch.Tensor) -> torch.Tensor:
    """``(..., 3, h, w)`` -> ``(..., 1, h, w)``: the mean of R, G and B (float)."""
    return tiny.float().mean(dim=-3, keepdim=True)


def normalise(tiny: torch.Tensor, colour: bool = True) -> torch.Tensor:
    """``(N, 3, h, w)`` uint8 (or ``(3, h, w)``) -> ``(N, D)`` float32, zero mean, unit norm.

    Flat images (zero variance) become the zero vector.
    """
    batch = tiny if tiny.dim() == 4 else tiny[None]
    x = (batch.float() if colour else grey(batch)).flatten(1)
    x = x - x.mean(dim=1, keepdim=True)
    norm = x.norm(dim=1, keepdim=True)
    return torch.where(norm > 1e-6, x / norm.clamp_min(1e-6), torch.zeros_like(x))


def d_ssd(query: torch.Tensor, database: torch.Tensor) -> torch.Tensor:
    """Sum of squared differences between ``(D,)`` or ``(Q, D)`` and ``(N, D)`` vectors."""
    q = query if query.dim() == 2 else query[None]
    d = (q * q).sum(1, keepdim=True) + (database * database).sum(1)[None] - 2.0 * q @ database.T
    d = d.clamp_min(0.0)
    return d if query.dim() == 2 else d[0]


def warps(tiny: torch.Tensor, shifts: int = 2, scales: tuple[float, ...] = (1.0, 1.1)):
    """The query variants of ``D_warp``: flips x shifts (+-``shifts`` px) x zoom ``scales``."""
    base = tiny.float()[None]
    side = base.shape[-1]
    out = []
    for scale in scales:
        if scale != 1.0:
            big = F.interpolate(base, scale_factor=scale, mode="bilinear", align_corners=False)
            o = (big.shape[-1] - side) // 2
            img = big[..., o : o + side, o : o + side]
        else:
            img = base
        for flip in (False, True):
            im = img.flip(-1) if flip else img
            padded = F.pad(im, (shifts,) * 4, mode="replicate")
            for dy in range(2 * shifts + 1):
                for dx in range(2 * shifts + 1):
                    out.append(padded[0, :, dy : dy + side, dx : dx + side])
    return torch.stack(out).round().clamp(0, 255).to(torch.uint8)


def d_warp(query_tiny: torch.Tensor, database: torch.Tensor, colour: bool = True) -> torch.Tensor:
    """``min`` over the query's warps of ``D_ssd`` to each normalised database vector."""
    variants = normalise(warps(query_tiny), colour)
    return d_ssd(variants, database).min(dim=0).values
