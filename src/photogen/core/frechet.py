"""The Frechet distance between two Gaussians fitted to feature sets (Heusel et al. 2017, the
"FID" when the features are Inception-v3's); used by pix2pix's tests and the GAN's score."""

from __future__ import annotations

import warnings

import numpy as np
import torch


def frechet_distance(feat_a: torch.Tensor, feat_b: torch.Tensor) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) of two ``(N, D)`` feature sets."""
    from scipy import linalg

    a, b = feat_a.double().numpy(), feat_b.double().numpy()
    if len(a) < 2 or len(b) < 2:
        raise ValueError("the Frechet distance needs at least 2 images per set")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    with warnings.catch_warnings():  # singular for fewer images than dimensions: handled
        warnings.simplefilter("ignore")
        covmean = linalg.sqrtm(s_a @ s_b)
        if not np.isfinite(covmean).all():  # regularise, as the reference FID code does
            eps = np.eye(len(s_a)) * 1e-6
            covmean = linalg.sqrtm((s_a + eps) @ (s_b + eps))
    covmean = covmean.real
    diff = mu_a - mu_b
    return float(diff @ diff + np.trace(s_a) + np.trace(s_b) - 2.0 * np.trace(covmean))
