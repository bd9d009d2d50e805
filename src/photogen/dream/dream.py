"""DeepDream (Mordvintsev, Olah, Tyka 2015, "Inceptionism"): make a picture more of what a
layer of a network sees in it, by gradient ascent on that layer's activations.

The authors' notebook, step for step: the photo is shrunk into ``octaves`` scales (each
``octave_scale`` smaller); from the smallest up, ``steps`` ascent steps are taken on the photo
plus the detail dreamt at the scale below (upsampled), and the new detail is carried up. Each
step rolls the picture by a random jitter of up to ``jitter`` pixels (undone after the step),
takes the gradient of the L2 objective ``0.5 * sum(a^2)`` of the layer's activations ``a``
(or, with a guide picture, of each position's best match among the guide's features), and
moves by ``step_size`` times the gradient divided by its mean absolute value; values stay in
the valid range. The authors used GoogLeNet's ``inception_4c/output``; photogen dreams on the
networks it has offline (EfficientNet-Lite0 by default, a layer at the same depth: stride 16).

Large photos are dreamt in tiles (``tile`` pixels, as crowsonkb/deep_dream does): the gradient
is computed tile by tile on the jittered picture, so the seams move every step, and memory is
bounded by the tile size, not the photo's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from photogen.core.resample import resize
from photogen.nets.features import NETWORKS, FeatureExtractor, build_network


@dataclass
class DreamConfig:
    """The notebook's defaults (Mordvintsev et al. 2015).

    Attributes:
        network: a feature network of :data:`photogen.nets.features.NETWORKS`.
        layer: the layer whose activations grow (``photogen dream --layers`` lists them).
        octaves: scales, the photo's own included.
        octave_scale: the ratio between two scales.
        steps: ascent steps per octave.
        step_size: mean absolute change of a step, in 8-bit grey levels (1.5 of 255).
        jitter: the random roll before each step, at most this many pixels.
        tile: the largest side computed at once (larger pictures go in tiles).
        seed: the jitter's random numbers.
        precision: ``fp32`` or ``bf16`` (autocast of the network's forward and backward).
    """

    network: str = "efficientnet_lite0"
    layer: str = "block10"
    octaves: int = 4
    octave_scale: float = 1.4
    steps: int = 10
    step_size: float = 1.5
    jitter: int = 32
    tile: int = 384
    seed: int = 0
    precision: str = "fp32"  # or bf16: autocast for the network's passes (core.precision)

    def validate(self) -> None:
        if self.network not in NETWORKS:
            raise ValueError(f"unknown network {self.network!r}; choose one of "
                             f"{', '.join(NETWORKS)}")  # fmt: skip
        if self.octaves < 1 or self.steps < 0 or self.octave_scale <= 1.0:
            raise ValueError("octaves >= 1, steps >= 0 and octave_scale > 1 are needed")
        if self.step_size <= 0 or self.jitter < 0 or self.tile < 64:
            raise ValueError("step_size > 0, jitter >= 0 and tile >= 64 are needed")
        if self.precision not in ("fp32", "bf16"):
            raise ValueError(f"precision must be fp32 or bf16, got {self.precision!r}")


@dataclass
class DreamResult:
    image: torch.Tensor  # (1, 3, H, W) in [0, 1], the photo's size
    objective: list[float] = field(default_factory=list)  # at the end of each octave
    objective_start: list[float] = field(default_factory=list)  # at the start of each octave


def layers_of(network: str) -> list[str]:
    """The layer names ``network`` offers, shallow to deep."""
    return list(build_network(network).layer_names)


def _objective_grad(act: torch.Tensor, guide: torch.Tensor | None) -> torch.Tensor:
    """d(objective)/d(act): ``act`` itself for 0.5 |a|^2; with a guide ``(C, N)``, each
    position's best-matching guide feature (the notebook's ``objective_guide``)."""
    if guide is None:
        return act
    c = act.shape[1]
    x = act[0].reshape(c, -1)
    best = (x.T @ guide).argmax(1)
    return guide[:, best].reshape(act.shape)


def _value(act: torch.Tensor, guide: torch.Tensor | None) -> float:
    if guide is None:
        return float(0.5 * act.pow(2).sum())
    c = act.shape[1]
    x = act[0].reshape(c, -1)
    return float((x.T @ guide).max(1).values.sum())


def _spans(n: int, tile: int) -> list[int]:
    return list(range(0, n, tile)) or [0]


def _gradient(extractor: FeatureExtractor, layer: str, image: torch.Tensor,
              guide: torch.Tensor | None, tile: int,
              precision: str = "fp32") -> torch.Tensor:  # fmt: skip
    """The objective's gradient with respect to ``image`` (1, 3, H, W), computed in tiles of at
    most ``tile`` pixels a side, each seen with a margin of ``tile // 2`` around it (only its
    own part of the gradient kept): the layer's receptive field is hundreds of pixels wide,
    so a tile needs that much context to agree with one pass over the whole."""
    from photogen.core.precision import autocast

    def activations(part: torch.Tensor) -> torch.Tensor:
        with autocast(precision, part.device):
            return extractor(part)[layer].float()

    h, w = image.shape[-2:]
    if h <= tile and w <= tile:
        part = image.detach().requires_grad_(True)
        act = activations(part)
        act.backward(_objective_grad(act.detach(), guide))
        return part.grad
    grad = torch.zeros_like(image)
    m = tile // 2
    for y in _spans(h, tile):
        for x in _spans(w, tile):
            y0, x0 = max(0, y - m), max(0, x - m)
            y1, x1 = min(h, y + tile + m), min(w, x + tile + m)
            part = image[..., y0:y1, x0:x1].detach().requires_grad_(True)
            act = activations(part)
            act.backward(_objective_grad(act.detach(), guide))
            keep = part.grad[..., y - y0 : y - y0 + tile, x - x0 : x - x0 + tile]
            grad[..., y : y + tile, x : x + tile] = keep
    return grad


@torch.no_grad()
def objective(extractor: FeatureExtractor, layer: str, image: torch.Tensor,
              guide: torch.Tensor | None = None, tile: int = 512) -> float:  # fmt: skip
    """The objective on ``image``: ``0.5 * sum(a^2)`` of the layer's activations (or the
    guide's best matches), summed over tiles of at most ``tile`` pixels (exact in one tile)."""
    h, w = image.shape[-2:]
    total = 0.0
    for y in _spans(h, tile):
        for x in _spans(w, tile):
            total += _value(extractor(image[..., y : y + tile, x : x + tile])[layer], guide)
    return total


def dream(
    photo: torch.Tensor,
    config: DreamConfig | None = None,
    extractor: FeatureExtractor | None = None,
    guide: torch.Tensor | None = None,
    device: torch.device | str = "cpu",
    callback: Callable[..., None] | None = None,
) -> DreamResult:
    """Dream on ``photo`` ``(1, 3, H, W)`` in [0, 1].

    Args:
        config: octaves, steps, jitter... (:class:`DreamConfig`).
        extractor: a :class:`FeatureExtractor` with ``config.layer`` (built when None).
        guide: a picture ``(1, 3, h, w)`` to dream towards (its features at the layer).
        callback: ``callback(done, total, image)`` after every step (progress, the picture
            at this octave's size; raise to cancel).

    Returns:
        :class:`DreamResult`: the picture (the photo's size) and the objective per octave.
    """
    cfg = config or DreamConfig()
    cfg.validate()
    device = torch.device(device)
    if extractor is None:
        extractor = FeatureExtractor(build_network(cfg.network), [cfg.layer]).to(device)
    if cfg.layer not in extractor.layers:
        raise ValueError(f"the extractor does not give layer {cfg.layer!r}")
    photo = photo[:, :3].to(device, torch.float32)
    target = None
    if guide is not None:
        with torch.no_grad():
            g = extractor(guide[:, :3].to(device, torch.float32))[cfg.layer]
        target = g[0].reshape(g.shape[1], -1)
    gen = torch.Generator().manual_seed(cfg.seed)
    h, w = photo.shape[-2:]
    sizes = [(h, w)]
    for _ in range(cfg.octaves - 1):
        ph, pw = sizes[-1]
        nh, nw = round(ph / cfg.octave_scale), round(pw / cfg.octave_scale)
        if min(nh, nw) < 32:  # the network needs some pixels; fewer octaves on a small photo
            break
        sizes.append((nh, nw))
    bases = [photo if s == (h, w) else resize(photo, s) for s in sizes]
    step = cfg.step_size / 255.0
    total, done = len(bases) * cfg.steps, 0
    result = DreamResult(photo)
    detail = torch.zeros_like(bases[-1])
    image = bases[-1]
    for base in reversed(bases):
        if detail.shape[-2:] != base.shape[-2:]:
            detail = F.interpolate(detail, size=base.shape[-2:], mode="bilinear",
                                   align_corners=False)  # fmt: skip
        image = (base + detail).clamp(0, 1)
        result.objective_start.append(objective(extractor, cfg.layer, image, target, cfg.tile))
        for _ in range(cfg.steps):
            oy, ox = (int(v) for v in torch.randint(-cfg.jitter, cfg.jitter + 1, (2,),
                                                    generator=gen))  # fmt: skip
            rolled = torch.roll(image, shifts=(oy, ox), dims=(-2, -1))
            grad = _gradient(extractor, cfg.layer, rolled, target, cfg.tile, cfg.precision)
            rolled = rolled + step / grad.abs().mean().clamp_min(1e-12) * grad
            image = torch.roll(rolled, shifts=(-oy, -ox), dims=(-2, -1)).clamp(0, 1)
            done += 1
            if callback is not None:
                callback(done, total, image)
        result.objective.append(objective(extractor, cfg.layer, image, target, cfg.tile))
        detail = image - base
    result.image = image.detach().cpu()
    return result
