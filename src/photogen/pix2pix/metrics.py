"""Image-translation metrics: L1, PSNR, SSIM per image and a Frechet distance over a set.

The Frechet distance (FID, Heusel et al. 2017) needs a feature network. ``inception`` is the
FID definition's Inception-v3 (:mod:`photogen.nets.inception`), with the weights
``pt_inception-2015-12-05-6726825d.pth`` downloaded once or installed by hand (``photogen
weights install pt_inception FILE``): only this one is comparable to published FIDs. Offline,
the default is EfficientNet-Lite0 (ImageNet, 1280-d pooled head), reported as ``FID[lite0]``
and *not comparable* to published FIDs. Other networks plug in with
:func:`register_fid_features` (a factory returning ``images [0,1] (B,3,H,W) -> (B, D)``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from photogen.core.frechet import frechet_distance

FeatureFn = Callable[[torch.Tensor], torch.Tensor]
_FID_FEATURES: dict[str, Callable[[torch.device], FeatureFn]] = {}


def register_fid_features(name: str, factory: Callable[[torch.device], FeatureFn]) -> None:
    """Make ``name`` usable as ``--fid-features``; ``factory(device)`` builds the function."""
    _FID_FEATURES[name] = factory


def fid_feature_names() -> list[str]:
    return sorted(_FID_FEATURES)


def fid_features(name: str, device: torch.device) -> FeatureFn:
    if name not in _FID_FEATURES:
        raise ValueError(f"unknown FID feature network {name!r} (known: {fid_feature_names()})")
    return _FID_FEATURES[name](device)


def _lite0_factory(device: torch.device) -> FeatureFn:
    from photogen.nets.efficientnet_lite import efficientnet_lite0

    net = efficientnet_lite0().fused().to(device).eval()

    @torch.inference_mode()
    def features(images: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(images.to(device), size=(224, 224), mode="bilinear", antialias=True)
        return net.extract(x.clamp(0, 1), ["head"])["head"].mean(dim=(2, 3)).double().cpu()

    return features


def _inception_factory(device: torch.device) -> FeatureFn:
    from photogen.nets.inception import fid_inception_v3

    net = fid_inception_v3("pt_inception").to(device)

    @torch.inference_mode()
    def features(images: torch.Tensor) -> torch.Tensor:
        return net.features(images.to(device).clamp(0, 1)).double().cpu()

    return features


register_fid_features("lite0", _lite0_factory)
register_fid_features("inception", _inception_factory)


def l1(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Mean absolute error of ``[0, 1]`` images."""
    return float((pred.float() - target.float()).abs().mean())


def psnr(pred: torch.Tensor, target: torch.Tensor) -> float:
    """PSNR in dB for ``[0, 1]`` images (capped at 100 dB for identical images)."""
    mse = float(((pred.float() - target.float()) ** 2).mean())
    return 100.0 if mse <= 1e-10 else 10.0 * float(np.log10(1.0 / mse))


def ssim(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Mean SSIM (Wang et al. 2004: Gaussian window 11, sigma 1.5) over RGB, ``[0, 1]`` images."""
    from kornia.metrics import ssim as kornia_ssim

    return float(kornia_ssim(pred.float(), target.float(), window_size=11, max_val=1.0).mean())


class MetricSet:
    """Accumulates per-image L1/PSNR/SSIM and features for the FID of a whole set."""

    def __init__(self, fid_name: str | None = "lite0", device: torch.device | None = None):
        self.rows: list[dict] = []
        self.fid_name = fid_name
        self._features = fid_features(fid_name, device or torch.device("cpu")) if fid_name else None
        self._fake: list[torch.Tensor] = []
        self._real: list[torch.Tensor] = []

    def update(self, name: str, pred: torch.Tensor, target: torch.Tensor) -> dict:
        row = {"name": name, "L1": l1(pred, target), "PSNR": psnr(pred, target)}
        row["SSIM"] = ssim(pred, target)
        self.rows.append(row)
        if self._features is not None:
            self._fake.append(self._features(pred))
            self._real.append(self._features(target))
        return row

    def summary(self) -> dict:
        n = len(self.rows)
        out: dict = {"images": n}
        for key in ("L1", "PSNR", "SSIM"):
            out[key] = sum(r[key] for r in self.rows) / n if n else float("nan")
        if self._features is not None and n >= 2:
            fake, real = torch.cat(self._fake), torch.cat(self._real)
            out[f"FID[{self.fid_name}]"] = frechet_distance(fake, real)
            out["FID_note"] = (
                f"features from {self.fid_name}; not comparable to published Inception FIDs"
                + (
                    "; fewer images than feature dimensions: biased high"
                    if n < fake.shape[1]
                    else ""
                )
            )
        return out
