"""Texture synthesis by matching Gram matrices of CNN features (Gatys, Ecker, Bethge 2015).

``synthesize_texture(source, config)`` starts from noise (or the source's mean colour plus a
little noise) and optimises the pixels so that the Gram matrices of the feature network's
activations match the source's, coarse to fine.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import torch

from photogen.core.color import match_histograms
from photogen.core.device import autocast_dtype
from photogen.core.resample import resize
from photogen.gatys.losses import style_loss, style_targets, tv_loss
from photogen.gatys.optimize import Callback, StepInfo, optimize_image
from photogen.gatys.pyramid import pyramid_sizes
from photogen.nets.features import NETWORKS, FeatureExtractor, build_network


@dataclass
class TextureConfig:
    """Settings for :func:`synthesize_texture` (defaults follow Gatys et al. 2015).

    Attributes:
        network: feature network (``efficientnet_lite0``, ``vgg19``, ``random_multiscale``).
        layers: layer -> weight; None uses the network's defaults (VGG19: conv1_1 and
            pool1-pool4 as in the paper, Fig. 1 / Sec. 2).
        size: output ``(height, width)``; None = the source's size.
        steps: loss evaluations at each pyramid level (the paper used L-BFGS).
        optimizer: ``lbfgs`` (paper) or ``adam``.
        lr: step size; None = 1.0 for L-BFGS, 0.02 for Adam.
        init: ``mean`` (source's mean colour + noise; a stride-2 stem never removes pure pixel
            noise) or ``noise`` (uniform noise, as in the paper).
        noise: amplitude of the noise added to the mean colour.
        levels: coarse-to-fine pyramid levels (1 = single scale).
        tv_weight: total-variation weight; None = the network's default.
        histogram_match: match the output's colour histograms to the source at the end.
        tileable: seamless output (circular padding and circular TV).
        padding: how the feature network pads when not tileable: ``reflect`` (default) or
            ``zeros`` (as trained). Zero padding is an artificial border the optimiser
            compensates for by saturating the pixels next to it: TF-"same" padding pads the top
            and left only at odd sizes, and at 75x113 the top rows became a band of saturated
            colour (edge-strip chroma 12 standard deviations above the interior's; 0.3 with
            reflection, and no worse Gram statistics at 48x48).
        seed: random seed of the initial image.
        history_size: L-BFGS memory.
        multires: levels of the multi-resolution image parametrisation (see
            ``optimize_image``). 1 (pixels) by default: from a flat start it made blotches.
        bf16: bfloat16 autocast for the forward passes (GPUs, CPUs with bf16 units). Off by
            default: on an H200 at 512 px it was no faster than float32 (16.1 vs 14.5 s) and
            ended at a 17% higher loss.
    """

    network: str = "efficientnet_lite0"
    layers: dict[str, float] | None = None
    size: tuple[int, int] | None = None
    steps: int = 200
    optimizer: str = "lbfgs"
    lr: float | None = None
    init: str = "mean"
    noise: float = 0.05
    levels: int = 2
    tv_weight: float | None = None
    histogram_match: bool = True
    tileable: bool = False
    padding: str = "reflect"
    seed: int = 0
    history_size: int = 50
    multires: int | None = 1
    bf16: bool = False
    extra: dict = field(default_factory=dict)

    def validate(self) -> None:
        """Raise ValueError on settings that cannot work."""
        if self.network not in NETWORKS:
            raise ValueError(
                f"unknown network {self.network!r}; choose one of {', '.join(NETWORKS)}"
            )
        if self.init not in ("mean", "noise"):
            raise ValueError(f"init must be 'mean' or 'noise', got {self.init!r}")
        if self.padding not in ("reflect", "zeros"):
            raise ValueError(f"padding must be 'reflect' or 'zeros', got {self.padding!r}")
        if self.steps < 1 or self.levels < 1:
            raise ValueError("steps and levels must be >= 1")
        if self.size is not None and min(self.size) < 16:
            raise ValueError(f"output size must be at least 16x16, got {self.size}")


@dataclass
class TextureResult:
    """Output of :func:`synthesize_texture`."""

    image: torch.Tensor  # (1, 3, H, W) in [0, 1]
    losses: list[float]  # loss per evaluation, all levels in order
    sizes: list[tuple[int, int]]  # pyramid sizes, coarsest first
    seconds: float
    config: dict


def initial_image(
    source: torch.Tensor, size: tuple[int, int], init: str, noise: float, generator: torch.Generator
) -> torch.Tensor:
    """``(1, 3, h, w)`` start image: uniform noise, or the source's mean colour plus noise."""
    u = torch.rand((1, 3, *size), generator=generator)
    if init == "noise":
        return u
    mean = source.mean(dim=(2, 3), keepdim=True).cpu()
    return (mean + noise * (2 * u - 1)).clamp(0.0, 1.0)


def synthesize_texture(
    source: torch.Tensor,
    config: TextureConfig | None = None,
    extractor: FeatureExtractor | None = None,
    device: torch.device | str = "cpu",
    callback: Callback | None = None,
) -> TextureResult:
    """Synthesise a new texture with the feature statistics of ``source``.

    Args:
        source: ``(1, 3, H, W)`` sRGB in [0, 1], the example texture.
        config: settings; defaults to :class:`TextureConfig()`.
        extractor: a prepared feature extractor (built from ``config.network`` if None).
        device: where to compute.
        callback: receives a :class:`StepInfo` after every evaluation.

    Returns:
        A :class:`TextureResult`.
    """
    config = config or TextureConfig()
    config.validate()
    if source.dim() != 4 or source.shape[:2] != (1, 3):
        raise ValueError(f"source must be (1, 3, H, W), got {tuple(source.shape)}")
    device = torch.device(device)
    spec = NETWORKS[config.network]
    layers = config.layers or spec.texture_layers
    tv_weight = spec.texture_tv_weight if config.tv_weight is None else config.tv_weight
    if extractor is None:
        extractor = FeatureExtractor(build_network(config.network), list(layers)).to(device)
    amp = autocast_dtype(device) if config.bf16 else None
    gen = torch.Generator().manual_seed(config.seed)
    out_size = tuple(config.size or source.shape[-2:])
    sizes = pyramid_sizes(out_size, config.levels)
    source = source.to(device)
    start = time.perf_counter()
    all_losses: list[float] = []
    image = None
    pad = "circular" if config.tileable else (None if config.padding == "zeros" else "reflect")
    for level, size in enumerate(sizes):
        factor = size[0] / out_size[0]
        src = resize(
            source,
            (max(8, round(source.shape[2] * factor)), max(8, round(source.shape[3] * factor))),
        )
        with (
            torch.no_grad(),
            torch.autocast(device.type, amp, enabled=amp is not None),
            extractor.padding(pad),
        ):
            targets = style_targets(extractor(src))
        if image is None:
            image = initial_image(source, size, config.init, config.noise, gen).to(device)
        else:
            # tileable: the upsampling wraps around too, or the seam comes back at each level
            image = resize(image, size, circular=config.tileable).clamp(0.0, 1.0)

        def loss_fn(x: torch.Tensor, targets=targets) -> tuple[torch.Tensor, dict[str, float]]:
            with torch.autocast(device.type, amp, enabled=amp is not None):
                feats = extractor(x)
            ls = style_loss(feats, targets, layers)
            lt = tv_loss(x, circular=config.tileable)
            return ls + tv_weight * lt, {"style": ls.item(), "tv": lt.item()}

        def report(step, loss, parts, img, level=level):
            if callback is not None:
                callback(StepInfo(level, len(sizes), step, config.steps, loss, parts, img))

        with extractor.padding(pad):
            image, losses = optimize_image(
                image,
                loss_fn,
                config.steps,
                config.optimizer,
                config.lr,
                config.history_size,
                report,
                config.multires,
            )
        all_losses += losses
    if config.histogram_match:
        image = match_histograms(image, source)
    return TextureResult(
        image.cpu(), all_losses, sizes, time.perf_counter() - start, asdict(config)
    )
