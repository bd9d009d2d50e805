"""Colour hints that stay in their region: edge-aware propagation in the spirit of Levin,
Lischinski & Weiss 2004, *Colorization using Optimization*, on top of any colorizer.

Levin et al. ask neighbouring pixels of similar lightness to get similar colour and hold the
scribbled pixels to their colour: one sparse linear system. Here the network's own ab is the
data term, so far from every hint the automatic colour stays:

* On a working grid (the photo's longer side at ``work_side`` px) the graph Laplacian ``L`` of
  the 8-neighbour affinities ``w_rs = exp(-(Y_r - Y_s)^2 / (2 sigma_r^2))`` (``sigma_r`` from
  the lightness variance of the 3x3 window, Levin's rule) is screened by ``lambda I`` (the
  data term: ``lambda = 1 / reach^2``, ``reach`` pixels of the grid) and the hints enter as
  stiff springs ``mu P`` (``P`` the hint coverage of each grid pixel).
* Three right-hand sides share that one SPD M-matrix, solved by conjugate gradients with an
  algebraic-multigrid preconditioner (pyamg; scipy's CG with a Jacobi preconditioner when
  pyamg is missing): the hints' *influence* ``u0`` (a spring of value 1 at each hint) and
  ``ua, ub`` (springs of value the hint's ab). The colour a pixel gets is the normalised
  ``(ua, ub) / u0`` (between two hints the edges decide whose colour wins), blended over the
  automatic colour with a weight that rises smoothly from 0 at ``u0 = floor`` to 1 at
  ``u0 = strength``: full within a hint's region, nothing across strong edges or far away.
* The correction and the influence are brought to the photo's full resolution by guided
  upsampling (He et al.'s guided filter with the photo's own L as the guide), in strips, so
  their edges follow the photo's; the photo's own L is kept.

A hint-taking network (siggraph17, lite-hints) still receives the points: where the hints'
influence reaches, the hints' propagated colours plus half of the network's own hinted
variation around them (``network_share``); the automatic ab elsewhere (the network alone
tints the whole photo after one click: 83% of the far pixels moved for lite-hints).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F

from photogen.core.color import rgb_to_lab

STRIP_ROWS = 512  # full-resolution rows upsampled at a time (bounded memory at 12 MP+)


@dataclass(frozen=True)
class PropagationConfig:
    """Settings of :func:`propagate`. The defaults come from a sweep of ``reach`` (0.08-0.25)
    and the fade (``floor``, ``strength``) with ``benchmarks/colorize_hints.py`` on the
    held-out photos (README): the widest reach at which one click still leaves the far part
    of the photo alone.

    Attributes:
        work_side: longer side of the working grid, px.
        reach: screening length of the data term, as a fraction of ``work_side``.
        strength: influence ``u0`` at which a hint's colour is applied in full.
        floor: influence below which a hint changes nothing (between ``floor`` and
            ``strength`` its colour fades in smoothly): the screened solution's long tail
            would otherwise tint the whole photo faintly.
        hint_weight: stiffness ``mu`` of a hint's spring (against affinities <= 1).
        sigma_floor: smallest lightness deviation (L* / 100) of an affinity.
        point_radius: radius of a clicked point on the working grid, px (2: a 5x5 patch, the
            size of the paper's simulated hints at 256 px).
        tol: relative residual of the conjugate gradients.
        network_share: with a hint-taking network, the share of its own hinted variation
            (its colours around a hint minus its colour at the hint) added to the hints'
            propagated colours (0: the network's hint input unused; 1: all of it; 0.5 gave
            +5.26 dB from 0 to 10 hints with lite-hints, against +4.46 dB at 1).
    """

    work_side: int = 256
    reach: float = 0.14
    strength: float = 0.15
    floor: float = 0.04
    hint_weight: float = 1e3
    sigma_floor: float = 0.01
    point_radius: int = 2
    tol: float = 1e-5
    network_share: float = 0.5


@dataclass
class ColourHints:
    """What a user asked for: clicked points and painted strokes, in photo pixels.

    Attributes:
        points: ``(x, y, a, b)``: the photo's pixel (x right, y down) should have ab ``(a, b)``.
        strokes: ``(ab (1, 2, h, w), mask (1, 1, h, w))`` painted marks (a scribble picture)
            at any resolution covering the whole photo, or None.
    """

    points: list[tuple[float, float, float, float]] = field(default_factory=list)
    strokes: tuple[torch.Tensor, torch.Tensor] | None = None

    def __bool__(self) -> bool:
        return bool(self.points) or (self.strokes is not None and bool(self.strokes[1].any()))

    def check(self, height: int, width: int) -> None:
        """Raise ValueError (one line) unless the hints fit a ``height`` x ``width`` photo:
        every point inside it, the strokes' picture of the same aspect ratio (2%)."""
        for x, y, _, _ in self.points:
            if not (0 <= x < width and 0 <= y < height):
                raise ValueError(f"hint ({x:g}, {y:g}) is outside the {width}x{height} photo")
        if self.strokes is not None:
            sh, sw = self.strokes[1].shape[-2:]
            if abs(sh / sw - height / width) > 0.02 * height / width:
                raise ValueError(f"the scribble picture is {sw}x{sh}, the photo {width}x{height}:"
                                 " their aspect ratios differ")  # fmt: skip


def scribble_hints(
    marks: torch.Tensor, min_chroma: float = 10.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Strokes from a picture of coloured marks: ``(1, 3 or 4, H, W)`` sRGB in [0, 1].

    With a transparent alpha channel the marks are where it is above one half (paint on a
    transparent layer); without one, or with an opaque one, where the picture's chroma ``|ab|``
    is at least ``min_chroma`` (marks drawn over the grey photo). Returns ``(ab (1, 2, H, W),
    mask (1, 1, H, W))``.
    """
    if marks.dim() != 4 or marks.shape[0] != 1 or marks.shape[1] not in (3, 4):
        raise ValueError(f"a scribble picture must be (1, 3 or 4, H, W), got {tuple(marks.shape)}")
    lab = rgb_to_lab(marks[:, :3].clamp(0, 1))
    ab = lab[:, 1:]
    if marks.shape[1] == 4 and bool((marks[:, 3] < 1).any()):
        mask = (marks[:, 3:4] > 0.5).float()
    else:
        mask = (ab.norm(dim=1, keepdim=True) >= min_chroma).float()
    return ab * mask, mask


def rasterize(hints: ColourHints, grid_h: int, grid_w: int, photo_h: int, photo_w: int,
              radius: int = 2) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """The hints on a ``grid_h`` x ``grid_w`` grid covering the photo: ``(ab (1, 2, h, w),
    cover (1, 1, h, w))``. A point is a disc of ``radius`` grid pixels around the grid pixel
    its photo pixel falls in; a stroke covers every grid pixel it touches, with the mean
    colour of its marks there. Later hints override earlier ones where they overlap."""
    ab = torch.zeros(1, 2, grid_h, grid_w)
    cover = torch.zeros(1, 1, grid_h, grid_w)
    if hints.strokes is not None:
        s_ab, s_mask = (t.float().cpu() for t in hints.strokes)
        if s_mask.any():
            touched = F.adaptive_max_pool2d(s_mask, (grid_h, grid_w))
            total = F.adaptive_avg_pool2d(s_mask, (grid_h, grid_w)).clamp(min=1e-12)
            mean_ab = F.adaptive_avg_pool2d(s_ab * s_mask, (grid_h, grid_w)) / total
            ab = torch.where(touched > 0, mean_ab, ab)
            cover = torch.maximum(cover, touched)
    hints.check(photo_h, photo_w)
    yy = torch.arange(grid_h).view(-1, 1)
    xx = torch.arange(grid_w).view(1, -1)
    for x, y, a, b in hints.points:
        gy = min(grid_h - 1, int(y * grid_h / photo_h))
        gx = min(grid_w - 1, int(x * grid_w / photo_w))
        disc = ((yy - gy) ** 2 + (xx - gx) ** 2 <= radius * radius).view(1, 1, grid_h, grid_w)
        ab[:, 0:1][disc] = float(a)
        ab[:, 1:2][disc] = float(b)
        cover[disc] = 1.0
    return ab, cover


def work_size(height: int, width: int, side: int) -> tuple[int, int]:
    """The working grid for a photo: its longer side ``side`` (never larger than the photo)."""
    s = min(1.0, side / max(height, width))
    return max(2, round(height * s)), max(2, round(width * s))


def affinity_laplacian(y: np.ndarray, sigma_floor: float = 0.01) -> sp.csr_matrix:
    """Graph Laplacian ``D - W`` of a lightness image ``y`` ``(h, w)`` in [0, 1] with
    8-neighbour affinities ``exp(-(y_r - y_s)^2 / (2 sigma^2))`` (diagonal ones divided by
    sqrt 2). Levin's rule for ``sigma_r^2``: 0.6 x the variance of the 3x3 window, at least
    what gives the closest neighbour a weight of 0.01, at least ``sigma_floor^2``; an edge's
    weight is the mean of its two ends' weights, so the matrix is symmetric."""
    h, w = y.shape
    pad = np.pad(y, 1, mode="edge")
    inside = np.pad(np.ones_like(y), 1)
    offsets = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]
    nb = np.stack([pad[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] for dy, dx in offsets])
    ok = np.stack([inside[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] for dy, dx in offsets])
    count = 1.0 + ok.sum(0)
    mean = (y + (nb * ok).sum(0)) / count
    var = ((y - mean) ** 2 + (((nb - mean) ** 2) * ok).sum(0)) / count
    d2 = (nb - y) ** 2
    closest = np.where(ok > 0, d2, np.inf).min(0)
    sigma2 = np.maximum(np.maximum(0.6 * var, closest / -math.log(0.01)), sigma_floor**2)
    rows, cols, vals = [], [], []
    index = np.arange(h * w).reshape(h, w)
    for k, (dy, dx) in enumerate(offsets):
        if (dy, dx) < (0, 0):  # each undirected edge once, from its (0, 1) / (1, *) end
            continue
        src = index[max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)]
        dst = src + dy * w + dx
        sl = (slice(max(0, -dy), h - max(0, dy)), slice(max(0, -dx), w - max(0, dx)))
        d = d2[k][sl]
        r_ = np.exp(-d / (2 * sigma2[sl]))
        s_ = np.exp(-d / (2 * sigma2.ravel()[dst.ravel()].reshape(dst.shape)))
        wt = 0.5 * (r_ + s_) / math.hypot(dy, dx)
        rows += [src.ravel(), dst.ravel()]
        cols += [dst.ravel(), src.ravel()]
        vals += [wt.ravel(), wt.ravel()]
    n = h * w
    W = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(n, n))  # fmt: skip
    return (sp.diags(np.asarray(W.sum(1)).ravel()) - W).tocsr()


def _solve(A: sp.csr_matrix, B: np.ndarray, tol: float) -> np.ndarray:  # noqa: N803
    """``A X = B`` for an SPD M-matrix and a few right-hand sides ``B (n, k)``."""
    import scipy.sparse.linalg as spla

    try:
        import pyamg
    except ImportError:  # pragma: no cover - pyamg is a dependency; keep a working fallback
        pyamg = None
    if pyamg is not None:
        ml = pyamg.ruge_stuben_solver(A)
        M = ml.aspreconditioner(cycle="V")
    else:
        M = sp.diags(1.0 / A.diagonal())
    out = np.zeros_like(B)
    for k in range(B.shape[1]):
        if not B[:, k].any():
            continue
        x, info = spla.cg(A, B[:, k], rtol=tol, maxiter=500, M=M)
        if info < 0:
            raise RuntimeError(f"the propagation's linear solve failed (cg info {info})")
        out[:, k] = x
    return out


def solve_on_grid(
    l_work: torch.Tensor, cover: torch.Tensor, colours: list[torch.Tensor],
    config: PropagationConfig = PropagationConfig(),
) -> tuple[list[torch.Tensor], torch.Tensor]:  # fmt: skip
    """On the working grid: L ``(1, 1, h, w)`` in [0, 100], the hints' coverage
    (:func:`rasterize`) and ab maps ``(1, 2, h, w)`` whose values at the hints are propagated,
    all through one matrix and one multigrid hierarchy. Returns ``([influence x propagated
    colour (1, 2, h, w), one per map], influence (1, 1, h, w))``; the influence is in [0, 1],
    1 at the hints."""
    _, _, h, w = l_work.shape
    n = h * w
    p = cover.reshape(n).double().numpy()
    if not p.any():
        return [torch.zeros(1, 2, h, w) for _ in colours], torch.zeros(1, 1, h, w)
    lap = affinity_laplacian(l_work[0, 0].double().numpy() / 100.0, config.sigma_floor)
    lam = 1.0 / (config.reach * max(h, w)) ** 2
    mu = config.hint_weight
    A = (lap + sp.diags(lam + mu * p)).tocsr()
    hinted = p > 0
    maps = [c.reshape(2, n).double().numpy() for c in colours]
    # a map with one colour at all its hints (a click) needs no solve: u_ab = colour * u0
    varying = [k for k, s in enumerate(maps) if np.ptp(s[:, hinted], axis=1).max() >= 1e-6]
    B = np.stack([mu * p] + [mu * p * maps[k][j] for k in varying for j in (0, 1)], 1)
    U = _solve(A, B, config.tol)
    u0 = np.clip(U[:, 0], 0.0, None)
    ramp = np.clip((u0 - config.floor) / (config.strength - config.floor), 0.0, 1.0)
    influence = ramp * ramp * (3.0 - 2.0 * ramp)  # smoothstep: no kink at either end
    influence[hinted] = 1.0
    out = []
    for k, s in enumerate(maps):
        if k in varying:
            col = 1 + 2 * varying.index(k)
            colour = U[:, col : col + 2] / np.maximum(u0, 1e-9)[:, None]
        else:
            colour = np.broadcast_to(s[:, hinted][:, 0], (n, 2)).copy()
        colour[hinted] = s.T[hinted]  # a hint's own pixels: exactly (the springs leave 1/mu)
        weighted = (colour * influence[:, None]).T.reshape(1, 2, h, w)
        out.append(torch.from_numpy(weighted.copy()).float())
    return out, torch.from_numpy(influence.reshape(1, 1, h, w).copy()).float()


def _box(x: torch.Tensor, r: int) -> torch.Tensor:
    return F.avg_pool2d(F.pad(x, (r, r, r, r), mode="replicate"), 2 * r + 1, stride=1)


def guided_upsample(values: torch.Tensor, guide_low: torch.Tensor, guide_full: torch.Tensor,
                    radius: int = 2, eps: float = 1e-3) -> torch.Tensor:  # fmt: skip
    """He et al.'s fast guided upsampling: ``values (1, C, h, w)`` fitted as a local linear
    function of ``guide_low (1, 1, h, w)`` (L / 100) in ``(2 radius + 1)``-pixel windows, the
    coefficients upsampled bilinearly and applied to ``guide_full (1, 1, H, W)``, strip by
    strip (memory bounded for any photo size). Returns ``(1, C, H, W)``."""
    g = guide_low
    mean_g = _box(g, radius)
    var_g = _box(g * g, radius) - mean_g**2
    mean_v = _box(values, radius)
    cov = _box(values * g, radius) - mean_v * mean_g
    a = cov / (var_g + eps)
    b = mean_v - a * mean_g
    coef = torch.cat([_box(a, radius), _box(b, radius)], 1)
    H, W = guide_full.shape[-2:]
    c = values.shape[1]
    out = torch.empty(1, c, H, W)
    h, w = g.shape[-2:]
    xs = ((torch.arange(W) + 0.5) * (w / W) - 0.5).clamp(0, w - 1)
    gx = xs / max(w - 1, 1) * 2 - 1
    for y0 in range(0, H, STRIP_ROWS):
        y1 = min(H, y0 + STRIP_ROWS)
        ys = ((torch.arange(y0, y1) + 0.5) * (h / H) - 0.5).clamp(0, h - 1)
        gy = ys / max(h - 1, 1) * 2 - 1
        grid = torch.stack(torch.meshgrid(gy, gx, indexing="ij")[::-1], -1)[None]
        up = F.grid_sample(coef, grid, mode="bilinear", align_corners=True)
        guide = guide_full[:, :, y0:y1].float().cpu()
        out[:, :, y0:y1] = up[:, :c] * guide + up[:, c:]
    return out


def propagate(
    l_full: torch.Tensor,
    auto_ab: torch.Tensor,
    hints: ColourHints,
    hinted_ab: torch.Tensor | None = None,
    config: PropagationConfig = PropagationConfig(),
) -> torch.Tensor:
    """ab ``(1, 2, H, W)`` for a photo whose L is ``l_full (1, 1, H, W)`` in [0, 100]:
    ``auto_ab`` (the network's automatic ab at full resolution) where no hint reaches, the
    hints' colours in their regions.

    ``hinted_ab``: a hint-taking network's ab for these hints (full resolution), used instead
    of ``auto_ab`` where the hints' influence reaches. With no hints ``auto_ab`` is returned.
    """
    if l_full.dim() != 4 or l_full.shape[:2] != (1, 1):
        raise ValueError(f"L must be (1, 1, H, W), got {tuple(l_full.shape)}")
    if auto_ab.shape[-2:] != l_full.shape[-2:] or auto_ab.shape[1] != 2:
        raise ValueError("the automatic ab must be (1, 2, H, W) at the photo's size")
    if not hints:
        return auto_ab
    H, W = l_full.shape[-2:]
    h, w = work_size(H, W, config.work_side)
    l_cpu = l_full.float().cpu()

    def small(x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x.float().cpu(), size=(h, w), mode="area")

    l_work = small(l_cpu)
    ab_hint, cover = rasterize(hints, h, w, H, W, config.point_radius)
    auto = auto_ab.float().cpu()
    if hinted_ab is None:  # Levin's absolute colours, blended in by the influence
        (colour,), infl = solve_on_grid(l_work, cover, [ab_hint], config)
        up = guided_upsample(torch.cat([colour, infl], 1), l_work / 100.0, l_cpu / 100.0)
        out = auto + up[:, :2] - up[:, 2:3].clamp(0, 1) * auto
    else:  # the hints' colours plus part of the hinted network's own variation around them
        hinted = hinted_ab.float().cpu()
        (colour, at_hints), infl = solve_on_grid(l_work, cover, [ab_hint, small(hinted)], config)
        up = guided_upsample(torch.cat([colour, at_hints, infl], 1), l_work / 100.0,
                             l_cpu / 100.0)  # fmt: skip
        g = up[:, 4:5].clamp(0, 1)
        out = auto + up[:, :2] - g * auto + config.network_share * (g * hinted - up[:, 2:4])
    return out.to(auto_ab.device)
