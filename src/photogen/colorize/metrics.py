"""The colorization paper's metrics (Zhang et al. 2016, Sec. 3.1) and two common extras.

- **AuC of cumulative pixel accuracy**: the fraction of pixels whose predicted ab lies within
  a threshold of the ground truth (L2 in ab), for thresholds 0..150, integrated and normalised
  to [0, 1]. The **class-rebalanced** variant weights each pixel by the inverse frequency of
  its ground-truth colour bin over the evaluated set (so every colour class counts equally):
  a grey prediction scores high on the plain AuC (most pixels are nearly grey) and low on the
  rebalanced one.
- **PSNR** of the recombined RGB against the original (dB, on [0, 1]).
- **Colourfulness** of Hasler & Süsstrunk 2003 on 0-255 RGB: rg = R-G, yb = (R+G)/2-B,
  CF = sqrt(std_rg² + std_yb²) + 0.3 sqrt(mean_rg² + mean_yb²).
"""

from __future__ import annotations

import torch

from photogen.colorize.bins import gamut_bins

THRESHOLDS = 151  # 0, 1, ..., 150


class AccuracyCurve:
    """Accumulates ab errors per ground-truth bin; gives plain and rebalanced curves and AuC."""

    def __init__(self, bins: torch.Tensor | None = None):
        self.bins = gamut_bins() if bins is None else bins
        self.counts = torch.zeros(len(self.bins), THRESHOLDS + 1, dtype=torch.float64)

    def update(self, pred_ab: torch.Tensor, true_ab: torch.Tensor) -> None:
        """Add ``(B, 2, H, W)`` predictions and ground truths."""
        err = (pred_ab.double() - true_ab.double()).pow(2).sum(1).sqrt().reshape(-1)
        # a pixel with error e is within threshold t for every integer t >= ceil(e)
        first = err.ceil().clamp(max=THRESHOLDS).long()  # THRESHOLDS = "never"
        gt = true_ab.permute(0, 2, 3, 1).reshape(-1, 2).float()
        cls = torch.cdist(gt, self.bins.to(gt)).argmin(1)
        flat = cls * (THRESHOLDS + 1) + first
        self.counts.view(-1).add_(torch.bincount(flat, minlength=self.counts.numel()).double())

    def curves(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Cumulative accuracy at thresholds 0..150: plain, and class-rebalanced."""
        cum = self.counts[:, :THRESHOLDS].cumsum(1)  # (Q, T) pixels within t, per class
        per_class = self.counts.sum(1)
        plain = cum.sum(0) / per_class.sum().clamp_min(1)
        present = per_class > 0
        rebalanced = (cum[present] / per_class[present, None]).mean(0)
        return plain, rebalanced

    def auc(self) -> tuple[float, float]:
        """Area under both curves, normalised to [0, 1] (mean over the 151 thresholds)."""
        plain, rebalanced = self.curves()
        return float(plain.mean()), float(rebalanced.mean())


def psnr(pred: torch.Tensor, target: torch.Tensor) -> float:
    """PSNR in dB of ``(B, 3, H, W)`` images in [0, 1]."""
    mse = (pred.double() - target.double()).pow(2).mean()
    return float("inf") if mse == 0 else float(10 * torch.log10(1.0 / mse))


def colourfulness(rgb: torch.Tensor) -> float:
    """Hasler & Süsstrunk (2003) colourfulness of ``(1, 3, H, W)`` sRGB in [0, 1]."""
    r, g, b = (rgb[0].double() * 255).unbind(0)
    rg, yb = r - g, 0.5 * (r + g) - b
    std = torch.sqrt(rg.var(unbiased=False) + yb.var(unbiased=False))
    mean = torch.sqrt(rg.mean() ** 2 + yb.mean() ** 2)
    return float(std + 0.3 * mean)
