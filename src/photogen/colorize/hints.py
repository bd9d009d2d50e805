"""User-guided colorization's simulated hints (Zhang, Zhu, Isola, Geng, Lin, Yu, Efros,
SIGGRAPH 2017, Sec. 3.3 and the released training code), and the error-against-hints curve
of the paper's Fig. 6.

During training the user's clicks are simulated from the ground truth: the number of revealed
points is geometric with p = 1/8 (so often none: the network must still colorize alone), each
location is drawn from a 2-D Gaussian around the image centre (sigma = a quarter of the side)
or uniformly, and each reveals the mean ab of a square patch of 1x1 to 9x9 pixels there.
"""

from __future__ import annotations

import math

import torch

from photogen.core.color import rgb_to_lab


def simulate_hints(
    ab: torch.Tensor,
    generator: torch.Generator | None = None,
    p: float = 1 / 8,
    max_patch: int = 9,
    points: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hints for a batch of ground-truth ab ``(B, 2, H, W)``.

    Args:
        ab: the true a*b* of each image.
        generator: the random source (CPU); None = torch's global one (which training
            checkpoints, so a resumed run draws the same hints).
        p: the geometric distribution's success probability (the number of points is the
            number of failures before a success: mean (1 - p) / p = 7).
        max_patch: the largest patch side (odd sides 1..max_patch, uniformly).
        points: a fixed number of points per image instead (for evaluation).

    Returns:
        ``(hints_ab (B, 2, H, W), mask (B, 1, H, W))``: each patch holds the patch's mean ab,
        the mask is 1 there and 0 elsewhere.
    """
    if ab.dim() != 4 or ab.shape[1] != 2:
        raise ValueError(f"ab must be (B, 2, H, W), got {tuple(ab.shape)}")
    b, _, h, w = ab.shape
    hints = torch.zeros_like(ab)
    mask = torch.zeros(b, 1, h, w, dtype=ab.dtype, device=ab.device)
    sizes = list(range(1, max_patch + 1, 2))
    for i in range(b):
        if points is None:
            u = float(torch.rand((), generator=generator))
            n = int(math.log(max(u, 1e-12)) / math.log(1 - p))
        else:
            n = points
        for _ in range(n):
            side = sizes[int(torch.randint(len(sizes), (), generator=generator))]
            if float(torch.rand((), generator=generator)) < 0.5:
                yx = torch.randn(2, generator=generator) * torch.tensor([h / 4, w / 4])
                y, x = int(h / 2 + yx[0]), int(w / 2 + yx[1])
            else:
                y = int(torch.randint(h, (), generator=generator))
                x = int(torch.randint(w, (), generator=generator))
            y0, x0 = min(max(0, y - side // 2), h - side), min(max(0, x - side // 2), w - side)
            y0, x0 = max(0, y0), max(0, x0)
            patch = ab[i, :, y0 : y0 + side, x0 : x0 + side]
            hints[i, :, y0 : y0 + side, x0 : x0 + side] = patch.mean(dim=(1, 2), keepdim=True)
            mask[i, :, y0 : y0 + side, x0 : x0 + side] = 1.0
    return hints, mask


def recolor(ab: torch.Tensor, fraction: float, generator: torch.Generator | None = None,
            l_channel: torch.Tensor | None = None, regional: float = 0.0):  # fmt: skip
    """Turn the hue of a random ``fraction`` of the images of a batch ``(B, 2, H, W)`` by a
    random angle (a rotation of the a*b* plane) and scale their chroma by 0.7-1.4.

    Used while training a hint-taking colorizer: on a recoloured photo the colours can no
    longer be guessed from the grey alone, so the network learns to follow the hints, whatever
    their colour (without it the 118 training photos taught it reds and browns and it ignored a
    blue click). With ``regional`` (a probability; needs ``l_channel`` ``(B, 1, H, W)``) a
    turned photo is turned only within a random band of lightness (soft edges), so that one
    hint is evidence about its own region, not the whole photo (whole-photo turns taught the
    network to tint everything after one click). Returns ``(ab', turned)``, ``turned`` a
    ``(B,)`` bool tensor.
    """
    b = ab.shape[0]
    turned = torch.rand(b, generator=generator) < fraction
    theta = torch.rand(b, generator=generator) * (2 * math.pi)
    scale = 0.7 + 0.7 * torch.rand(b, generator=generator)
    cos, sin = torch.cos(theta) * scale, torch.sin(theta) * scale
    cos = torch.where(turned, cos, torch.ones_like(cos)).to(ab)
    sin = torch.where(turned, sin, torch.zeros_like(sin)).to(ab)
    a, bb = ab[:, 0], ab[:, 1]
    c, s = cos.view(-1, 1, 1), sin.view(-1, 1, 1)
    out = torch.stack([a * c - bb * s, a * s + bb * c], 1).clamp(-110, 110)
    if regional > 0 and l_channel is not None:
        local = (torch.rand(b, generator=generator) < regional).to(ab.device)
        lo = torch.rand(b, generator=generator) * 80.0  # a band of L* 15-45 wide
        hi = lo + 15.0 + 30.0 * torch.rand(b, generator=generator)
        lo, hi = lo.to(ab).view(-1, 1, 1, 1), hi.to(ab).view(-1, 1, 1, 1)
        band = torch.sigmoid((l_channel - lo) / 2.0) * torch.sigmoid((hi - l_channel) / 2.0)
        weight = torch.where(local.view(-1, 1, 1, 1), band, torch.ones_like(band))
        out = ab + weight * (out - ab)
    return out, turned.to(ab.device)


@torch.no_grad()
def error_against_hints(
    model: torch.nn.Module,
    photos: list[torch.Tensor],
    counts: tuple[int, ...] = (0, 1, 2, 5, 10),
    size: int = 256,
    patch: int = 5,
    seed: int = 0,
) -> dict[int, dict[str, float]]:
    """The paper's Fig. 6: mean PSNR (on RGB) and mean ab error over held-out photos when
    ``n`` points (``patch``-pixel squares of the true mean ab) are revealed, for each ``n``.

    ``photos``: ``(1, 3, H, W)`` colour photos in [0, 1], resized to ``size`` x ``size``.
    The same points are used for every model given the same seed.
    """
    import torch.nn.functional as F

    from photogen.core.color import lab_to_rgb

    out = {}
    device = next(model.parameters()).device
    for n in counts:
        gen = torch.Generator().manual_seed(seed)
        psnr, ab_err = [], []
        for photo in photos:
            rgb = F.interpolate(photo, size=(size, size), mode="bilinear", antialias=True,
                                align_corners=False).clamp(0, 1)  # fmt: skip
            lab = rgb_to_lab(rgb)
            l_ch, ab = lab[:, :1], lab[:, 1:]
            hints, mask = simulate_hints(ab, gen, max_patch=patch, points=n)
            hints = hints if n else None
            pred_ab = model(l_ch.to(device), hints_ab=hints.to(device) if n else None,
                            hints_mask=mask.to(device) if n else None).cpu()  # fmt: skip
            pred = lab_to_rgb(torch.cat([l_ch, pred_ab], 1))
            mse = float(((pred - rgb) ** 2).mean())
            psnr.append(10 * math.log10(1 / max(mse, 1e-10)))
            ab_err.append(float((pred_ab - ab).norm(dim=1).mean()))
        out[n] = {"psnr": sum(psnr) / len(psnr), "ab_error": sum(ab_err) / len(ab_err)}
    return out
