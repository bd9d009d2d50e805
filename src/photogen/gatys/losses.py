"""Losses of Gatys et al.: Gram-matrix style/texture loss, feature content loss, TV loss.

Each layer's loss is divided by the squared norm of its target, so that the layers weigh
alike whatever their channel count or activation scale, and one style weight works across
networks and image sizes (the paper's per-layer 1/(4 N^2 M^2) plays the same role for VGG).
"""

from __future__ import annotations

import torch


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Gram matrix of feature maps, averaged over positions (Gatys et al. 2015, eq. 1).

    Args:
        features: ``(B, C, H, W)`` activations.

    Returns:
        ``(B, C, C)`` with ``G[b, i, j] = sum_k F[b, i, k] F[b, j, k] / (H W)``; dividing by the
        number of positions makes Grams of different image sizes comparable.
    """
    if features.dim() != 4:
        raise ValueError(f"gram_matrix expects (B, C, H, W), got {tuple(features.shape)}")
    b, c, h, w = features.shape
    f = _wide(features.reshape(b, c, h * w))
    return torch.bmm(f, f.transpose(1, 2)) / (h * w)


def _wide(x: torch.Tensor) -> torch.Tensor:
    """Half and bfloat16 activations (autocast) are summed in float32; float64 stays."""
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def style_targets(features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Gram targets of one image's activations (computed once, never inside the loop)."""
    return {k: gram_matrix(v).detach() for k, v in features.items()}


def blended_style_targets(
    styles: list[tuple[dict[str, torch.Tensor], float]],
) -> dict[str, torch.Tensor]:
    """Weighted blend of several images' Gram targets.

    With style weights ``w_i`` summing to one, ``sum_i w_i |G - G_i|^2`` and
    ``|G - sum_i w_i G_i|^2`` differ by a constant, so blending the targets is exact and
    costs one loss instead of several. Weights are normalised to sum to one.
    """
    total = sum(w for _, w in styles)
    if total <= 0:
        raise ValueError("style blend weights must sum to a positive number")
    out: dict[str, torch.Tensor] = {}
    for feats, weight in styles:
        for k, g in style_targets(feats).items():
            g = g * (weight / total)
            out[k] = out[k] + g if k in out else g
    return out


def style_loss(
    features: dict[str, torch.Tensor],
    targets: dict[str, torch.Tensor],
    layer_weights: dict[str, float],
) -> torch.Tensor:
    """Sum over layers of ``w_l |G_l - T_l|^2 / |T_l|^2`` (texture loss, eq. 4-5)."""
    total = None
    for layer, weight in layer_weights.items():
        gram = gram_matrix(features[layer])
        target = targets[layer].to(gram.dtype)
        diff = gram - target
        term = weight * diff.pow(2).sum() / target.pow(2).sum().clamp_min(1e-12)
        total = term if total is None else total + term
    if total is None:
        raise ValueError("style_loss needs at least one layer")
    return total


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``|F - P|^2 / |P|^2`` at the content layer (Gatys et al. 2016, eq. 1)."""
    features = _wide(features)
    target = target.to(features.dtype)
    return (features - target).pow(2).sum() / target.pow(2).sum().clamp_min(1e-12)


def tv_loss(image: torch.Tensor, circular: bool = False) -> torch.Tensor:
    """Mean squared difference between neighbouring pixels (smoothness prior).

    Args:
        image: ``(B, 3, H, W)``.
        circular: also compare the last row/column with the first (tileable output).
    """
    if circular:
        dx = image - torch.roll(image, 1, dims=3)
        dy = image - torch.roll(image, 1, dims=2)
    else:
        dx = image[..., :, 1:] - image[..., :, :-1]
        dy = image[..., 1:, :] - image[..., :-1, :]
    return dx.pow(2).mean() + dy.pow(2).mean()
