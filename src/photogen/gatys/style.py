"""Neural style transfer (Gatys, Ecker, Bethge 2016, "Image Style Transfer Using CNNs").

The output's features at the content layer match the content image's, its Gram matrices at
the style layers match the style image's (or a weighted blend of several styles), with a
total-variation prior. Optimised with L-BFGS coarse to fine: each scale starts from the
previous result upsampled, so most evaluations run at low resolution.

``preserve_colors`` is the luminance-only transfer of Gatys et al. 2016b ("Preserving Color
in Neural Artistic Style Transfer", Sec. 2.2): style and content luminance are transferred,
and the content's a*b* chroma is put back.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import torch

from photogen.core.color import combine_luminance_chroma, rgb_to_lab, transfer_luminance_stats
from photogen.core.device import autocast_dtype, available_memory
from photogen.core.resample import resize
from photogen.gatys.losses import blended_style_targets, content_loss, style_loss, tv_loss
from photogen.gatys.optimize import Callback, StepInfo, estimate_memory, optimize_image
from photogen.gatys.pyramid import canvas_size, fit_max_side, pad_to, pyramid_sizes
from photogen.nets.features import NETWORKS, FeatureExtractor, build_network


class MemoryBudgetError(RuntimeError):
    """The requested size would not fit in memory; raised before any work starts."""


@dataclass
class StyleConfig:
    """Settings for :func:`stylize`.

    Attributes:
        network: feature network name (see ``photogen.nets.features.NETWORKS``).
        content_layer: None = the network's default (VGG19: conv4_2, paper Sec. 3).
        style_layers: layer -> weight; None = default (VGG19: conv1_1 ... conv5_1, equal weights).
        content_weight: alpha of eq. 7.
        style_weight: beta of eq. 7; None = the network's default (1e3 with our normalised losses).
        tv_weight: total-variation weight; None = the network's default.
        max_size: the output's longer side in pixels.
        levels: coarse-to-fine scales, each half the next (3 at 512 px: 128, 256, 512);
            None = automatic: 1 up to 512 px (measured: with the multi-resolution
            parametrisation a single scale reaches a given loss sooner at 256 and 512 px),
            one more per doubling above, so large outputs get their big structures early.
        steps: L-BFGS evaluations at the finest scale.
        coarse_steps: evaluations at each coarser scale; None = ``steps``.
        init: ``content`` (converges fastest) or ``noise`` (the paper's Fig. 6 variations).
        style_scale: style image size relative to the output (bigger = larger brush strokes).
        style_weights: blend weights of several style images (None = equal).
        preserve_colors: luminance-only transfer keeping the content's colours.
        optimizer, lr, history_size: see ``optimize_image``.
        multires: levels of the multi-resolution image parametrisation (``optimize_image``)
            used for the first ``multires_fraction`` of each scale's evaluations, plain pixels
            after; None = automatic (3 at 256 px, 4 at 512 px); 1 = pixels only, as the paper.
        multires_fraction: share of the evaluations run through the multi-resolution
            parametrisation (measured at 512 px: 0.2 then pixels reached the pixels-only
            loss of 300 evaluations in 180; multi-resolution alone stalled on starry_night).
        clamp_every_eval: keep pixels in [0, 1] before every evaluation (see optimize_image).
        seed: random seed (noise init).
        max_memory: bytes allowed; None = what the device has free. Too big -> MemoryBudgetError.
        bf16: bfloat16 autocast for the network's forward passes (GPUs, CPUs with AVX512-BF16 or
            AMX; ignored elsewhere). Off by default: on an H200 at 512 px it was slower than
            float32 (5.9 vs 5.0 s for 300 evaluations) and ended at a 38% higher loss.
    """

    network: str = "efficientnet_lite0"
    content_layer: str | None = None
    style_layers: dict[str, float] | None = None
    content_weight: float = 1.0
    style_weight: float | None = None
    tv_weight: float | None = None
    max_size: int = 512
    levels: int | None = None
    steps: int = 200
    coarse_steps: int | None = None
    init: str = "content"
    style_scale: float = 1.0
    style_weights: list[float] | None = None
    preserve_colors: bool = False
    optimizer: str = "lbfgs"
    lr: float | None = None
    history_size: int = 50
    multires: int | None = None
    multires_fraction: float = 0.2
    clamp_every_eval: bool = True
    seed: int = 0
    max_memory: int | None = None
    bf16: bool = False
    extra: dict = field(default_factory=dict)

    def validate(self, n_styles: int) -> None:
        """Raise ValueError on settings that cannot work."""
        if self.network not in NETWORKS:
            raise ValueError(
                f"unknown network {self.network!r}; choose one of {', '.join(NETWORKS)}"
            )
        if self.init not in ("content", "noise"):
            raise ValueError(f"init must be 'content' or 'noise', got {self.init!r}")
        if self.max_size < 16 or self.steps < 1 or (self.levels is not None and self.levels < 1):
            raise ValueError("max_size must be >= 16, steps and levels >= 1")
        if not 0.0 <= self.multires_fraction <= 1.0:
            raise ValueError(f"multires_fraction must be in [0, 1], got {self.multires_fraction}")
        if self.style_scale <= 0:
            raise ValueError(f"style_scale must be > 0, got {self.style_scale}")
        if self.style_weights is not None:
            if len(self.style_weights) != n_styles:
                raise ValueError(
                    f"{len(self.style_weights)} style weights for {n_styles} style images"
                )
            if any(w < 0 for w in self.style_weights) or sum(self.style_weights) <= 0:
                raise ValueError("style weights must be >= 0 and not all zero")


@dataclass
class StyleResult:
    """Output of :func:`stylize`."""

    image: torch.Tensor  # (1, 3, H, W) in [0, 1]
    losses: list[float]
    sizes: list[tuple[int, int]]
    seconds: float
    memory_estimate: int
    config: dict


def _luminance_rgb(image: torch.Tensor) -> torch.Tensor:
    """L* of Lab scaled to [0, 1], as a 3-channel grey image."""
    return (rgb_to_lab(image)[:, :1] / 100.0).expand(-1, 3, -1, -1).contiguous()


def format_bytes(n: int) -> str:
    """``"1.7 GiB"``, ``"35 MiB"``: small jobs do not read as 0.0 GiB."""
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{max(1, round(n / 2**20))} MiB"


def memory_needed(extractor: FeatureExtractor, size: tuple[int, int], history_size: int) -> int:
    """Peak bytes to stylise an output of ``size`` (h, w): the optimised canvas is ``size``
    rounded up to whole network strides (see ``pyramid.canvas_size``)."""
    h, w = canvas_size(size)
    return estimate_memory(extractor, h, w, history_size)


def check_memory(
    extractor: FeatureExtractor, size: tuple[int, int], config: StyleConfig, device
) -> int:
    """Estimate peak bytes for an output of ``size`` (h, w); raise MemoryBudgetError when over
    the budget. The message names the output size, as the command's own line does."""
    need = memory_needed(extractor, size, config.history_size)
    budget = config.max_memory if config.max_memory is not None else available_memory(device)
    if need > budget:
        raise MemoryBudgetError(
            f"{size[1]}x{size[0]} needs about {format_bytes(need)} but only "
            f"{format_bytes(budget)} is available; lower --max-size or --history-size"
        )
    return need


def stylize(
    content: torch.Tensor,
    styles: list[torch.Tensor],
    config: StyleConfig | None = None,
    extractor: FeatureExtractor | None = None,
    device: torch.device | str = "cpu",
    callback: Callback | None = None,
    init_image: torch.Tensor | None = None,
    temporal: tuple[torch.Tensor, torch.Tensor, float] | None = None,
) -> StyleResult:
    """Render ``content`` in the style of ``styles``.

    Args:
        content: ``(1, 3, H, W)`` sRGB in [0, 1].
        styles: one or more ``(1, 3, h, w)`` sRGB images in [0, 1].
        config: settings; defaults to :class:`StyleConfig()`.
        extractor: prepared feature extractor (built from ``config.network`` if None).
        device: where to compute.
        callback: receives a :class:`StepInfo` after each evaluation.
        init_image: ``(1, 3, h, w)`` start instead of ``config.init`` (video: the previous
            stylised frame warped by the flow, Ruder et al. 2016), resized to the first scale.
        temporal: ``(target, mask, weight)``: adds Ruder et al.'s short-term temporal loss
            ``weight * sum(mask * (x - target)^2) / (3 * H * W)`` (target ``(1, 3, h, w)``,
            mask ``(1, 1, h, w)`` in [0, 1], resized to each scale).

    Returns:
        A :class:`StyleResult`; the image has the content's aspect ratio and
        ``config.max_size`` as its longer side.

    Raises:
        ValueError: bad shapes or settings. MemoryBudgetError: too large for the device.
    """
    config = config or StyleConfig()
    if not styles:
        raise ValueError("at least one style image is needed")
    config.validate(len(styles))
    for name, img in [("content", content)] + [(f"style {i}", s) for i, s in enumerate(styles)]:
        if img.dim() != 4 or img.shape[:2] != (1, 3):
            raise ValueError(f"{name} must be (1, 3, H, W), got {tuple(img.shape)}")
    device = torch.device(device)
    spec = NETWORKS[config.network]
    content_layer = config.content_layer or spec.content_layer
    style_layers = config.style_layers or spec.style_layers
    style_weight = spec.style_weight if config.style_weight is None else config.style_weight
    tv_weight = spec.tv_weight if config.tv_weight is None else config.tv_weight
    if extractor is None:
        net = build_network(config.network)
        extractor = FeatureExtractor(net, [*style_layers, content_layer]).to(device)
    levels = config.levels or 1 + max(0, math.ceil(math.log2(config.max_size / 512)))
    sizes = pyramid_sizes(fit_max_side(*content.shape[-2:], config.max_size), levels)
    mem = check_memory(extractor, sizes[-1], config, device)
    amp = autocast_dtype(device) if config.bf16 else None
    blend = config.style_weights or [1.0] * len(styles)

    content = content.to(device)
    styles = [s.to(device) for s in styles]
    if config.preserve_colors:
        styles = [_luminance_rgb(s) for s in styles]
        luma_c = rgb_to_lab(content)[:, :1] / 100.0
        styles = [
            transfer_luminance_stats(s[:, :1], luma_c)
            .clamp(0, 1)
            .expand(-1, 3, -1, -1)
            .contiguous()
            for s in styles
        ]
        work_content = _luminance_rgb(content)
    else:
        work_content = content

    gen = torch.Generator().manual_seed(config.seed)
    start = time.perf_counter()
    all_losses: list[float] = []
    image = None
    for level, size in enumerate(sizes):
        # optimised on a canvas of whole network strides, cropped back (see pyramid.STRIDE)
        canvas = canvas_size(size)
        c = pad_to(resize(work_content, size), canvas)
        with torch.no_grad(), torch.autocast(device.type, amp, enabled=amp is not None):
            c_target = extractor(c)[content_layer].float().detach()
            per_style = []
            for s, w in zip(styles, blend, strict=True):
                scale = config.style_scale * max(size) / max(s.shape[-2:])
                s_size = (max(16, round(s.shape[2] * scale)), max(16, round(s.shape[3] * scale)))
                feats = extractor(resize(s, s_size))
                per_style.append(({k: feats[k] for k in style_layers}, w))
            s_targets = blended_style_targets(per_style)
        if image is None and init_image is not None:
            image = pad_to(resize(init_image.to(device), size).clamp(0.0, 1.0), canvas)
        if image is None:
            image = (
                c.clone()
                if config.init == "content"
                else torch.rand((1, 3, *canvas), generator=gen).to(device)
            )
        else:
            previous = sizes[level - 1]
            image = image[..., : previous[0], : previous[1]]
            image = pad_to(resize(image, size).clamp(0.0, 1.0), canvas)

        t_target = t_mask = None
        if temporal is not None:
            t_target = pad_to(resize(temporal[0].to(device), size), canvas)
            t_mask = torch.zeros((1, 1, *canvas), device=device)
            t_mask[..., : size[0], : size[1]] = resize(temporal[1].to(device), size).clamp(0, 1)

        def loss_fn(x, c_target=c_target, s_targets=s_targets, t_target=t_target, t_mask=t_mask,
                    size=size):  # fmt: skip
            with torch.autocast(device.type, amp, enabled=amp is not None):
                feats = extractor(x)
            lc = content_loss(feats[content_layer], c_target)
            ls = style_loss(feats, s_targets, style_layers)
            lt = tv_loss(x)
            total = config.content_weight * lc + style_weight * ls + tv_weight * lt
            parts = {"content": lc.item(), "style": ls.item(), "tv": lt.item()}
            if t_target is not None:
                ltemp = (t_mask * (x - t_target) ** 2).sum() / (3 * size[0] * size[1])
                total = total + temporal[2] * ltemp
                parts["temporal"] = ltemp.item()
            return total, parts

        steps = config.steps if level == len(sizes) - 1 else (config.coarse_steps or config.steps)

        def report(step, loss, parts, img, level=level, steps=steps, size=size):
            if callback is not None:
                img = img[..., : size[0], : size[1]]
                callback(StepInfo(level, len(sizes), step, steps, loss, parts, img))

        # A warm start through the multi-resolution parametrisation, then plain pixels:
        # measured here, the first moves low frequencies fast and the second finishes better.
        warm = 0 if config.multires == 1 else round(config.multires_fraction * steps)
        losses: list[float] = []
        for n, multires in ((warm, config.multires), (steps - warm, 1)):
            if n == 0:
                continue
            offset = len(losses)
            image, part = optimize_image(
                image,
                loss_fn,
                n,
                config.optimizer,
                config.lr,
                config.history_size,
                lambda step, *a, offset=offset: report(step + offset, *a),
                multires,
                config.clamp_every_eval,
            )
            losses += part
        all_losses += losses
    image = image[..., : sizes[-1][0], : sizes[-1][1]].contiguous()
    if config.preserve_colors:
        image = combine_luminance_chroma(image, resize(content, image.shape[-2:]))
    return StyleResult(
        image.cpu(), all_losses, sizes, time.perf_counter() - start, mem, asdict(config)
    )
