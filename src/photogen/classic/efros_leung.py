"""Non-parametric sampling (Efros & Leung, ICCV 1999), for synthesis and for hole filling.

A pixel's value depends only on its neighbours (Markov assumption). The output grows from a
3x3 seed patch of the example; each unfilled pixel on the boundary of the filled region takes
its window (``window`` x ``window``), compares it with every window of the example by the
Gaussian-weighted SSD over the already-known pixels (sigma = window / 6.4, as in the paper),
and copies the centre of one example window drawn uniformly among those within
``(1 + epsilon)`` of the best. So the output only ever contains the example's own colours.

Speed ("many pixels per pass"): each pass takes the boundary pixels of one parity class
(``(y % 2, x % 2)``, cycling; pixels of a pass are never 8-neighbours of each other) with the
most known neighbours first, and scores all of them against all example windows at once:
``SSD[p, b] = sum_k m_bk (e_pk - t_bk)^2 = (e^2) m_b - 2 e (m_b t_b) + m_b t_b^2``, two matrix
products instead of a loop. ``engine="naive"`` runs the same passes with one direct SSD per
pixel (the reference the benchmark and a test compare against).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class EfrosLeungConfig:
    window: int = 11
    epsilon: float = 0.1
    sigma: float | None = None  # Gaussian weighting; None = window / 6.4
    batch: int = 2048  # most pixels scored together
    max_examples: int = 60_000  # example windows kept (a seeded random subset beyond this)
    engine: str = "fast"  # or "naive"
    seed: int = 0

    def validate(self) -> None:
        if self.window < 3 or self.window % 2 == 0:
            raise ValueError(f"window must be odd and >= 3, got {self.window}")
        if self.epsilon < 0:
            raise ValueError(f"epsilon must be >= 0, got {self.epsilon}")
        if self.engine not in ("fast", "naive"):
            raise ValueError(f"engine must be fast or naive, got {self.engine!r}")


def gaussian_window(window: int, sigma: float, dtype=torch.float32) -> torch.Tensor:
    r = torch.arange(window, dtype=dtype) - window // 2
    g = torch.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * sigma * sigma))
    return g / g.max()


def example_windows(
    image: torch.Tensor, window: int, known: torch.Tensor | None = None,
    max_examples: int | None = None, seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """All fully known ``window`` x ``window`` windows of ``image (C, H, W)``.

    Returns ``(windows (P, C * window^2), centres (P, C))``.
    """
    c = image.shape[0]
    cols = F.unfold(image[None], window)[0].T  # (P, C*w*w), channel-major like the templates
    if known is not None:
        full = F.unfold(known[None, None].to(image.dtype), window)[0].min(0).values > 0.5
        cols = cols[full]
    if len(cols) == 0:
        raise ValueError(f"no fully known {window}x{window} window to copy from")
    if max_examples and len(cols) > max_examples:
        keep = torch.randperm(len(cols), generator=torch.Generator().manual_seed(seed))
        cols = cols[keep[:max_examples].sort().values]
    centre = (window * window) // 2
    centres = cols.view(len(cols), c, window * window)[:, :, centre]
    return cols.contiguous(), centres.contiguous()


def _ssd(windows, windows_sq, templates, weights, engine: str) -> torch.Tensor:
    """Weighted SSD of every example window to every template: ``(P, B)``."""
    if engine == "naive":
        return torch.stack(
            [((windows - t) ** 2 * w).sum(1) for t, w in zip(templates, weights, strict=True)], 1
        )
    return (
        windows_sq @ weights.T
        - 2 * windows @ (weights * templates).T
        + (weights * templates * templates).sum(1)
    )


def _draw(ok: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """For each column of ``ok (P, B)``, one row drawn uniformly among its True entries
    (the largest of independent uniform keys)."""
    keys = torch.rand(ok.shape, generator=gen)
    return torch.where(ok, keys, -1.0).argmax(0)


def grow(
    canvas: torch.Tensor,
    known: torch.Tensor,
    windows: torch.Tensor,
    centres: torch.Tensor,
    cfg: EfrosLeungConfig,
    progress: Callable[[int], None] | None = None,
) -> torch.Tensor:
    """Fill the unknown pixels of ``canvas (C, H, W)`` (``known (H, W)`` bool) in place."""
    cfg.validate()
    c, h, w = canvas.shape
    r = cfg.window // 2
    gen = torch.Generator().manual_seed(cfg.seed)
    gauss = gaussian_window(cfg.window, cfg.sigma or cfg.window / 6.4, canvas.dtype).flatten()
    pad_canvas = F.pad(canvas, (r, r, r, r))
    pad_known = F.pad(known, (r, r, r, r))
    inner = pad_canvas[:, r : r + h, r : r + w]
    inner_known = pad_known[r : r + h, r : r + w]
    offs = torch.arange(cfg.window) - r
    windows_sq = windows * windows
    ones = torch.ones(1, 1, 3, 3, dtype=canvas.dtype)
    phase = 0
    while not bool(inner_known.all()):
        count = F.conv2d(inner_known[None, None].to(canvas.dtype), ones, padding=1)[0, 0]
        front = (~inner_known) & (count > 0)
        if not bool(front.any()):
            raise ValueError("unknown pixels are not connected to any known pixel")
        for _ in range(4):  # the next parity class that has boundary pixels
            py, px = divmod(phase % 4, 2)
            phase += 1
            sel = front.clone()
            sel[(torch.arange(h) % 2 != py)] = False
            sel[:, (torch.arange(w) % 2 != px)] = False
            if sel.any():
                break
        ys, xs = sel.nonzero(as_tuple=True)
        shuffle = torch.randperm(len(ys), generator=gen)
        ys, xs = ys[shuffle], xs[shuffle]
        order = count[ys, xs].argsort(descending=True, stable=True)[: cfg.batch]
        ys, xs = ys[order], xs[order]
        Y = (ys + r)[:, None, None] + offs[None, :, None]
        X = (xs + r)[:, None, None] + offs[None, None, :]
        templates = pad_canvas[:, Y, X].permute(1, 0, 2, 3).reshape(len(ys), -1)
        mask = pad_known[Y, X].reshape(len(ys), -1).to(canvas.dtype) * gauss
        mask = (mask / mask.sum(1, keepdim=True)).repeat(1, c)
        dist = _ssd(windows, windows_sq, templates * mask.gt(0), mask, cfg.engine)
        best = dist.min(0).values
        limit = torch.where(best > 0, best * (1 + cfg.epsilon), best) + 1e-6
        ok = dist <= limit
        pick = _draw(ok, gen)
        inner[:, ys, xs] = centres[pick].T
        inner_known[ys, xs] = True
        if progress is not None:
            progress(len(ys))
    canvas.copy_(inner)
    return canvas


def synthesize(
    example: torch.Tensor,
    size: tuple[int, int],
    cfg: EfrosLeungConfig | None = None,
    progress: Callable[[int], None] | None = None,
) -> torch.Tensor:
    """A new ``size`` texture from ``example (1, C, H, W)`` in [0, 1]; returns ``(1, C, h, w)``."""
    cfg = cfg or EfrosLeungConfig()
    cfg.validate()
    ex = example[0]
    if min(ex.shape[-2:]) < cfg.window:
        raise ValueError(f"example {tuple(ex.shape[-2:])} is smaller than the window {cfg.window}")
    windows, centres = example_windows(ex, cfg.window, None, cfg.max_examples, cfg.seed)
    h, w = size
    canvas = torch.zeros(ex.shape[0], h, w, dtype=ex.dtype)
    known = torch.zeros(h, w, dtype=torch.bool)
    gen = torch.Generator().manual_seed(cfg.seed)
    sy = int(torch.randint(0, ex.shape[1] - 2, (1,), generator=gen))
    sx = int(torch.randint(0, ex.shape[2] - 2, (1,), generator=gen))
    cy, cx = h // 2 - 1, w // 2 - 1
    canvas[:, cy : cy + 3, cx : cx + 3] = ex[:, sy : sy + 3, sx : sx + 3]
    known[cy : cy + 3, cx : cx + 3] = True
    if progress is not None:
        progress(9)
    return grow(canvas, known, windows, centres, cfg, progress)[None]


def fill_holes(
    image: torch.Tensor,
    known: torch.Tensor,
    cfg: EfrosLeungConfig | None = None,
    progress: Callable[[int], None] | None = None,
) -> torch.Tensor:
    """Fill ``~known`` in ``image (1, C, H, W)`` from the image's own fully known windows.

    Known pixels are never changed.
    """
    cfg = cfg or EfrosLeungConfig()
    cfg.validate()
    if known.shape != image.shape[-2:]:
        raise ValueError(f"mask is {tuple(known.shape)}, image {tuple(image.shape[-2:])}")
    windows, centres = example_windows(image[0], cfg.window, known, cfg.max_examples, cfg.seed)
    canvas = image[0].clone()
    canvas[:, ~known] = 0
    return grow(canvas, known.clone(), windows, centres, cfg, progress)[None]
