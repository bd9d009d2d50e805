"""A synthetic labels -> facade dataset, generated here (no download): coloured label maps of
sky, wall, windows, sills, doors and cornices, rendered into textured facade pictures.

Labels use a palette in the spirit of the CMP facade set the paper trains on (sky dark blue,
wall blue, window light blue, door orange, sill yellow, cornice green). The rendering is
procedural: a wall colour modulated by smooth noise and brick courses, glass with a vertical
sky reflection, wood doors with planks, light cornice bands and a soft shadow under each
sill; every facade draws its own layout and colours from a seeded generator.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from photogen.core.image import save_image

PALETTE = {
    "sky": (0.0, 0.0, 0.67),
    "wall": (0.0, 0.33, 1.0),
    "window": (0.0, 0.85, 1.0),
    "door": (1.0, 0.55, 0.0),
    "sill": (1.0, 0.95, 0.2),
    "cornice": (0.5, 1.0, 0.4),
}
WALL_COLOURS = [(0.80, 0.72, 0.60), (0.66, 0.33, 0.25), (0.75, 0.75, 0.72), (0.86, 0.80, 0.66)]


def _rand(gen: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=gen))


def _randint(gen: torch.Generator, lo: int, hi: int) -> int:
    return int(torch.randint(lo, hi + 1, (), generator=gen))


def _smooth_noise(gen: torch.Generator, size: int, cells: int) -> torch.Tensor:
    coarse = torch.rand(1, 1, cells, cells, generator=gen)
    return F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)[0, 0]


def facade(size: int = 256, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """One ``(labels, photo)`` pair, each ``(1, 3, size, size)`` in ``[0, 1]``."""
    gen = torch.Generator().manual_seed(seed)
    s = size
    label = torch.empty(3, s, s)
    photo = torch.empty(3, s, s)
    ys = torch.linspace(0, 1, s).view(s, 1).expand(s, s)

    def paint(mask: torch.Tensor, name: str, colour: torch.Tensor) -> None:
        label[:, mask] = torch.tensor(PALETTE[name]).view(3, 1)
        photo[:, mask] = colour[:, mask]

    top = _randint(gen, 0, s // 6)
    sky = torch.stack([0.55 + 0.3 * ys, 0.7 + 0.2 * ys, torch.full_like(ys, 0.95)])
    paint(ys * (s - 1) < top, "sky", sky)
    wall_rgb = torch.tensor(WALL_COLOURS[_randint(gen, 0, len(WALL_COLOURS) - 1)])
    wall_rgb = (wall_rgb + torch.randn(3, generator=gen) * 0.04).clamp(0, 1)
    texture = 0.85 + 0.3 * _smooth_noise(gen, s, 8) + 0.06 * (torch.rand(s, s, generator=gen) - 0.5)
    course = max(3, s // 64)
    bricks = 1.0 - 0.08 * ((torch.arange(s).view(s, 1) % course) == 0).float().expand(s, s)
    wall = (wall_rgb.view(3, 1, 1) * texture * bricks).clamp(0, 1)
    paint(ys * (s - 1) >= top, "wall", wall)

    floors = _randint(gen, 3, 6)
    cols = _randint(gen, 2, 5)
    floor_h = (s - top) / floors
    col_w = s / cols
    win_w = _rand(gen, 0.35, 0.6) * col_w
    win_h = _rand(gen, 0.4, 0.62) * floor_h
    rows, cols_idx = torch.arange(s).view(s, 1), torch.arange(s).view(1, s)
    glass_tint = torch.tensor([0.18, 0.24, 0.32]) + torch.randn(3, generator=gen) * 0.03
    glass = glass_tint.view(3, 1, 1) + 0.35 * (1 - ys) * torch.tensor([0.6, 0.7, 0.9]).view(3, 1, 1)
    door_col = _randint(gen, 0, cols - 1)
    for f in range(floors):
        y0 = top + f * floor_h
        band = (rows >= y0) & (rows < y0 + max(2, floor_h * 0.07)) & (cols_idx >= 0)
        if f > 0:
            paint(band, "cornice", (wall * 1.25 + 0.05).clamp(0, 1))
        for c in range(cols):
            x0 = c * col_w + (col_w - win_w) / 2
            if f == floors - 1 and c == door_col:  # ground floor: a door instead
                dw, dh = win_w * 1.1, floor_h * 0.8
                dx0, dy0 = c * col_w + (col_w - dw) / 2, y0 + floor_h - dh
                door = (
                    (rows >= dy0)
                    & (rows < y0 + floor_h)
                    & (cols_idx >= dx0)
                    & (cols_idx < dx0 + dw)
                )
                wood = torch.tensor([0.38, 0.22, 0.12]).view(3, 1, 1) * (
                    0.8 + 0.2 * ((cols_idx % max(3, s // 48)) > 0).float()
                )
                paint(door, "door", wood.expand(3, s, s))
                continue
            wy0 = y0 + (floor_h - win_h) * 0.45
            win = (rows >= wy0) & (rows < wy0 + win_h) & (cols_idx >= x0) & (cols_idx < x0 + win_w)
            paint(win, "window", glass)
            sill = (rows >= wy0 + win_h) & (rows < wy0 + win_h + max(2, s // 80))
            sill = sill & (cols_idx >= x0 - 2) & (cols_idx < x0 + win_w + 2)
            paint(sill, "sill", torch.full((3, s, s), 0.9))
            shadow = (rows >= wy0 + win_h + max(2, s // 80)) & (rows < wy0 + win_h + s // 40)
            shadow = shadow & (cols_idx >= x0) & (cols_idx < x0 + win_w)
            photo[:, shadow] *= 0.8
    return label[None].clamp(0, 1), photo[None].clamp(0, 1)


def make_facades(
    out_dir: str | os.PathLike,
    count: int = 100,
    size: int = 256,
    seed: int = 0,
    test_count: int = 0,
    progress: Callable | None = None,
) -> Path:
    """Write ``count`` training and ``test_count`` test pairs as ``labels|photo`` PNGs."""
    out = Path(out_dir)
    jobs = [("train", i) for i in range(count)] + [("test", count + i) for i in range(test_count)]
    for phase, i in progress(jobs) if progress else jobs:
        label, photo = facade(size, seed * 100_003 + i)
        save_image(torch.cat([label, photo], dim=-1), out / phase / f"facade_{i:04d}.png")
    return out
