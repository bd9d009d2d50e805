"""Colour spaces and colour statistics (kornia underneath).

All functions take ``(B, 3, H, W)`` float sRGB in ``[0, 1]`` unless stated; Lab has L in
``[0, 100]`` and a, b roughly in ``[-128, 127]`` (D65 white, as scikit-image).
"""

from __future__ import annotations

import kornia
import torch


def _check_rgb(image: torch.Tensor, name: str = "image") -> None:
    if not isinstance(image, torch.Tensor) or image.dim() != 4 or image.shape[1] != 3:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ValueError(f"{name} must be a (B, 3, H, W) tensor, got {shape}")


_CHUNK_PIXELS = 1 << 19  # per-pixel colour maths in slices of ~0.5 MP: their temporaries
# stay in cache, 2-3x faster than whole 12 MP photos at once (same values: it is elementwise)


def _by_rows(fn, image: torch.Tensor, out_channels: int) -> torch.Tensor:
    b, _, h, w = image.shape
    rows = max(1, _CHUNK_PIXELS // max(1, w))
    if h <= rows or image.requires_grad:
        return fn(image)
    out = image.new_empty(b, out_channels, h, w)
    for y in range(0, h, rows):
        out[:, :, y : y + rows] = fn(image[:, :, y : y + rows])
    return out


def rgb_to_lab(image: torch.Tensor) -> torch.Tensor:
    """sRGB ``(B, 3, H, W)`` in [0, 1] -> CIE Lab ``(B, 3, H, W)`` (L in [0, 100])."""
    _check_rgb(image)
    return _by_rows(lambda x: kornia.color.rgb_to_lab(x.clamp(0.0, 1.0)), image, 3)


def lab_to_rgb(lab: torch.Tensor, clip: bool = True) -> torch.Tensor:
    """CIE Lab ``(B, 3, H, W)`` -> sRGB ``(B, 3, H, W)``, clipped to [0, 1] by default."""
    _check_rgb(lab, "lab")
    return _by_rows(lambda x: kornia.color.lab_to_rgb(x, clip=clip), lab, 3)


def _lightness(rgb: torch.Tensor) -> torch.Tensor:
    c = rgb.clamp(0.0, 1.0)
    lin = torch.where(c > 0.04045, ((c + 0.055) / 1.055).pow(2.4), c / 12.92)
    y = (lin[:, 0:1] * 0.212671).add_(lin[:, 1:2], alpha=0.715160).add_(lin[:, 2:3], alpha=0.072169)
    f = torch.where(y > 0.008856, y.clamp(min=0.008856).pow(1.0 / 3.0), 7.787 * y + 4.0 / 29.0)
    return f.mul_(116.0).sub_(16.0)


def lightness(image: torch.Tensor) -> torch.Tensor:
    """CIE L ``(B, 1, H, W)`` of sRGB ``(B, 3, H, W)``: the L of :func:`rgb_to_lab`, computed
    from Y alone (a third of the work of the full conversion; equal to 1e-4)."""
    _check_rgb(image)
    return _by_rows(_lightness, image, 1)


def lightness_image(image: torch.Tensor) -> torch.Tensor:
    """sRGB ``(B, 3, H, W)`` of the L channel alone (a = b = 0): what a colorizer sees."""
    l_channel = lightness(image)
    return lab_to_rgb(torch.cat([l_channel, torch.zeros_like(l_channel).repeat(1, 2, 1, 1)], 1))


def rgb_to_gray(image: torch.Tensor) -> torch.Tensor:
    """Rec. 601 luma ``(B, 1, H, W)`` of sRGB ``(B, 3, H, W)``."""
    _check_rgb(image)
    return kornia.color.rgb_to_grayscale(image)


def match_histograms(source: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Give each channel of ``source`` the value distribution of ``reference`` (exact).

    Histogram specification by sorting: the pixel of rank ``i`` among ``n`` receives the
    reference value at quantile ``(i + 0.5) / n``. The order of the source's pixels is kept,
    and when both images have the same number of pixels the output's histogram *is* the
    reference's (interpolating schemes such as scikit-image's smear the values of textures
    with few distinct levels). Sizes may differ.

    Args:
        source: ``(B, C, H, W)`` image to change.
        reference: ``(B, C, H', W')`` image whose per-channel histograms are wanted.

    Returns:
        ``(B, C, H, W)`` tensor.
    """
    if source.dim() != 4 or reference.dim() != 4 or source.shape[:2] != reference.shape[:2]:
        raise ValueError(
            f"match_histograms needs (B, C, H, W) tensors with the same B and C, got "
            f"{tuple(source.shape)} and {tuple(reference.shape)}"
        )
    b, c = source.shape[:2]
    src = source.reshape(b, c, -1)
    ref_sorted = reference.reshape(b, c, -1).to(source.dtype).sort(dim=-1).values
    n, m = src.shape[-1], ref_sorted.shape[-1]
    order = src.argsort(dim=-1, stable=True)
    idx = ((torch.arange(n, device=source.device) + 0.5) * (m / n)).long().clamp_max(m - 1)
    out = torch.empty_like(src)
    out.scatter_(-1, order, ref_sorted[..., idx])
    return out.reshape(source.shape)


def transfer_luminance_stats(luma: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Shift and scale ``luma`` so its mean and std equal ``target``'s (Gatys et al. 2016b, 2.1).

    Args:
        luma: ``(B, 1, H, W)`` luminance to change.
        target: ``(B, 1, H', W')`` luminance with the wanted statistics.
    """
    mu_s, sd_s = luma.mean(dim=(2, 3), keepdim=True), luma.std(dim=(2, 3), keepdim=True)
    mu_t, sd_t = target.mean(dim=(2, 3), keepdim=True), target.std(dim=(2, 3), keepdim=True)
    return (luma - mu_s) * (sd_t / sd_s.clamp_min(1e-8)) + mu_t


def combine_luminance_chroma(luminance: torch.Tensor, chroma_from: torch.Tensor) -> torch.Tensor:
    """Take L from ``luminance`` and a, b from ``chroma_from`` (both sRGB ``(B, 3, H, W)``).

    This is how style transfer keeps the content's colours: the stylised luminance, the
    content's chroma. Sizes must match.
    """
    lab_l = rgb_to_lab(luminance)
    lab_c = rgb_to_lab(chroma_from)
    return lab_to_rgb(torch.cat([lab_l[:, :1], lab_c[:, 1:]], dim=1))
