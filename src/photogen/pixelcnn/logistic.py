"""The discretised logistic mixture likelihood of PixelCNN++ (Salimans et al. 2017, Sec. 2.1-2.2).

Each pixel: a mixture of ``K`` logistics; for RGB the means of G and B depend linearly on the
pixel's R (and G) values, which is how the channels of one pixel are coupled. Parameters per
pixel: ``K`` mixture logits, then per channel ``K`` means, ``K`` log-scales and (RGB) ``3 K``
coupling coefficients. Values live on ``levels`` bins of ``[-1, 1]``; the first and last bins
extend to -inf / +inf.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def split_params(params: torch.Tensor, channels: int):
    """``(B, P, H, W)`` -> logits ``(B, K, H, W)``, means/log-scales ``(B, C, K, H, W)``,
    coefficients ``(B, 3, K, H, W)`` (RGB) or None."""
    b, p, h, w = params.shape
    k = p // (10 if channels == 3 else 3)
    logits = params[:, :k]
    rest = params[:, k:]
    means = rest[:, : channels * k].reshape(b, channels, k, h, w)
    log_scales = rest[:, channels * k : 2 * channels * k].reshape(b, channels, k, h, w)
    coeffs = None
    if channels == 3:
        coeffs = torch.tanh(rest[:, 2 * channels * k :].reshape(b, 3, k, h, w))
    return logits, means, log_scales.clamp(min=-7.0), coeffs


def _coupled_means(means, coeffs, xs):
    """Means of G and B shifted by the (scaled) values of R and G at the same pixel."""
    if coeffs is None:
        return means
    r, g = xs[:, 0:1], xs[:, 1:2]  # (B, 1, 1, H, W)
    m_g = means[:, 1:2] + coeffs[:, 0:1] * r
    m_b = means[:, 2:3] + coeffs[:, 1:2] * r + coeffs[:, 2:3] * g
    return torch.cat([means[:, 0:1], m_g, m_b], dim=1)


def mixture_log_prob(params: torch.Tensor, x: torch.Tensor, levels: int = 256) -> torch.Tensor:
    """log P(x) per pixel, ``(B, H, W)``, for integer images ``x`` ``(B, C, H, W)``."""
    channels = x.shape[1]
    logits, means, log_scales, coeffs = split_params(params, channels)
    xs = (x.float() * (2.0 / (levels - 1)) - 1.0).unsqueeze(2)  # (B, C, 1, H, W)
    means = _coupled_means(means, coeffs, xs)
    centered = xs - means
    inv_s = torch.exp(-log_scales)
    half = 1.0 / (levels - 1)
    plus_in = inv_s * (centered + half)
    min_in = inv_s * (centered - half)
    cdf_delta = torch.sigmoid(plus_in) - torch.sigmoid(min_in)
    log_cdf_plus = plus_in - F.softplus(plus_in)  # first bin: P(X <= x + half)
    log_one_minus_cdf_min = -F.softplus(min_in)  # last bin: P(X >= x - half)
    mid_in = inv_s * centered
    log_pdf_mid = mid_in - log_scales - 2.0 * F.softplus(mid_in)  # tiny bins: density * width
    inner = torch.where(
        cdf_delta > 1e-5,
        torch.log(cdf_delta.clamp(min=1e-12)),
        log_pdf_mid - torch.log(torch.tensor((levels - 1) / 2.0)),
    )
    log_probs = torch.where(
        xs < -0.999, log_cdf_plus, torch.where(xs > 0.999, log_one_minus_cdf_min, inner)
    )
    total = log_probs.sum(dim=1) + F.log_softmax(logits, dim=1)  # (B, K, H, W)
    return torch.logsumexp(total, dim=1)


def mixture_sample(
    params: torch.Tensor, channels: int, levels: int, uniforms: torch.Tensor, temperature=1.0
) -> torch.Tensor:
    """Sample integer pixels from ``params`` ``(B, P)`` (one pixel each) with ``uniforms``
    ``(B, 1 + C)`` in (0, 1): the first picks the component, the others the logistic draws."""
    logits, means, log_scales, coeffs = split_params(params[:, :, None, None], channels)
    probs = torch.softmax(logits[:, :, 0, 0] / temperature, dim=1)
    k = torch.searchsorted(probs.cumsum(1), uniforms[:, :1].contiguous()).clamp(
        max=probs.shape[1] - 1
    )
    idx = k[:, None, :, None, None].expand(-1, channels, 1, 1, 1)
    mean = means.gather(2, idx)[:, :, 0, 0, 0]
    scale = torch.exp(log_scales.gather(2, idx)[:, :, 0, 0, 0]) * temperature
    coef = None if coeffs is None else coeffs.gather(2, idx[:, :3])[:, :, 0, 0, 0]
    u = uniforms[:, 1:].clamp(1e-5, 1 - 1e-5)
    out = []
    for c in range(channels):
        m = mean[:, c]
        if coef is not None and c == 1:
            m = m + coef[:, 0] * out[0]
        if coef is not None and c == 2:
            m = m + coef[:, 1] * out[0] + coef[:, 2] * out[1]
        value = (m + scale[:, c] * (torch.log(u[:, c]) - torch.log1p(-u[:, c]))).clamp(-1, 1)
        level = torch.round((value + 1) * (levels - 1) / 2)
        out.append(level * (2.0 / (levels - 1)) - 1.0)  # condition on the quantised value
    return torch.stack([torch.round((o + 1) * (levels - 1) / 2) for o in out], 1).long()
