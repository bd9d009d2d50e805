"""Gatys et al.: texture is the statistics of deep features, richer the deeper the layers
(2015, Fig. 2); style and content separate (2016, Fig. 3 and 4)."""

from __future__ import annotations

from pathlib import Path

import torch

# Gatys 2015 Fig. 2 matches Gram matrices at layers up to conv1_1, pool1, ..., pool4 of VGG19;
from photogen.core.resample import resize
from photogen.core.samples import available_samples, load_sample
from photogen.experiments import verdicts
from photogen.experiments.base import Experiment, Outcome, Settings
from photogen.gatys.losses import gram_matrix
from photogen.gatys.pyramid import fit_max_side

# Gatys 2015 Fig. 2 matches Gram matrices at layers up to conv1_1, pool1, ..., pool4 of VGG19;
# EfficientNet-Lite0's blocks at the same strides stand in when VGG19 is not installed.
DEPTHS = {
    "vgg19": ["relu1_1", "pool1", "pool2", "pool3", "pool4"],
    "efficientnet_lite0": ["stem", "block0", "block2", "block4", "block7"],
}
NAMES = ["conv1_1", "pool1", "pool2", "pool3", "pool4"]


def _network() -> str:
    """VGG19 when its weights are on this machine, else the offline default (checked without
    loading the 548 MB of weights, which the experiment then loads once)."""
    from photogen.core.weights import WeightsError, resolve

    try:
        resolve("vgg19", allow_download=False)
        return "vgg19"
    except WeightsError:  # not cached and offline: the stand-in is documented
        return "efficientnet_lite0"


@torch.no_grad()
def _grams(judge, image: torch.Tensor) -> dict[str, torch.Tensor]:
    return {k: gram_matrix(v) for k, v in judge(image).items()}


def _gram_distance(judge, image: torch.Tensor, ref: dict[str, torch.Tensor]) -> float:
    """Mean over the judge's layers of ``|G(image) - G_ref| / |G_ref|`` (Gram matrices)."""
    grams = _grams(judge, image)
    total = sum(float((grams[k] - g).norm() / g.norm()) for k, g in ref.items())
    return round(total / len(ref), 4)


def _tile_row(images: list[torch.Tensor], side: int) -> torch.Tensor:
    tiles = [resize(im, fit_max_side(*im.shape[-2:], side)) for im in images]
    h = max(t.shape[-2] for t in tiles)
    out = torch.ones(1, 3, h, sum(t.shape[-1] + 4 for t in tiles) - 4)
    x = 0
    for t in tiles:
        out[..., : t.shape[-2], x : x + t.shape[-1]] = t
        x += t.shape[-1] + 4
    return out


def _pick(*names: str) -> str:
    found = available_samples()
    return next((n for n in names if n in found), "chelsea")


def texture_layers(folder: Path, s: Settings) -> Outcome:
    from photogen.core.image import save_image
    from photogen.gatys.texture import TextureConfig, synthesize_texture
    from photogen.nets.features import FeatureExtractor, build_network

    network = _network()
    layers = DEPTHS[network]
    name = _pick("gimp-bark", "brick", "gravel")
    source = load_sample(name)
    size = 48 if s.tiny else (192 if s.full else 128)
    source = resize(source, fit_max_side(*source.shape[-2:], size))
    steps = 10 if s.tiny else (300 if s.full else 120)
    judge = FeatureExtractor(build_network(network), layers).to(s.device)
    ref = _grams(judge, source.to(s.device))
    outputs, distance = [], {}
    for i, top in enumerate(NAMES):
        cfg = TextureConfig(network=network, layers={ly: 1.0 for ly in layers[: i + 1]},
                            steps=steps, seed=s.seed)  # fmt: skip
        out = synthesize_texture(source, cfg, device=s.device).image
        outputs.append(out)
        # how far the result is from the example at every depth (all five layers)
        distance[top] = _gram_distance(judge, out.to(s.device), ref)
        s.log(f"texture-layers: up to {top}: mean relative Gram distance {distance[top]}")
    save_image(_tile_row(outputs + [source], 256), folder / "texture_layers.png")
    finding = (f"{name} with {network}: mean relative Gram-matrix distance to the example over "
               f"all five depths, matching up to " + ", ".join(f"{k} {v:.3f}"
               for k, v in distance.items()))  # fmt: skip
    setup = (f"Texture synthesis (L-BFGS, {steps} evaluations) from '{name}' at {size} px, "
             f"Gram matrices matched at the layers up to each depth of {network} "
             f"({', '.join(layers)}); left to right: up to conv1_1 ... pool4, then the "
             "example.")  # fmt: skip
    return Outcome(setup, {"network": network, "gram_distance": distance},
                   ["texture_layers.png"], finding)  # fmt: skip


def style_tradeoff(folder: Path, s: Settings) -> Outcome:
    from photogen.core.image import save_image
    from photogen.gatys.style import StyleConfig, stylize
    from photogen.nets.features import NETWORKS, FeatureExtractor, build_network

    network = _network()
    spec = NETWORKS[network]
    content = load_sample("chelsea")
    style = load_sample(_pick("starry_night", "gimp-leopard", "coffee"))
    size = 48 if s.tiny else (256 if s.full else 160)
    steps = 10 if s.tiny else (200 if s.full else 80)
    depths = DEPTHS[network]
    recon, pixel_error = [], {}
    small = resize(content, fit_max_side(*content.shape[-2:], size))
    for layer, label in zip(depths, NAMES, strict=True):
        cfg = StyleConfig(network=network, content_layer=layer, style_weight=0.0, tv_weight=0.0,
                          init="noise", max_size=size, steps=steps, seed=s.seed)  # fmt: skip
        out = stylize(content, [style], cfg, device=s.device).image
        recon.append(out)
        pixel_error[label] = round(float((out - small).abs().mean()), 4)
    # with photogen's normalised losses the change happens between ratios 100 and 0.1 (the
    # network's default style weight, 1e3, is ratio 1e-3)
    ratios = [1e2, 1e1, 1.0, 1e-1, 1e-3] if not s.tiny else [1e2, 1e-1]
    judge = FeatureExtractor(build_network(network), list(spec.style_layers)).to(s.device)
    s_small = resize(style, fit_max_side(*style.shape[-2:], size))
    ref = _grams(judge, s_small)
    grid, style_distance, content_error = [], {}, {}
    for ratio in ratios:  # alpha / beta: content weight over style weight (the paper's axis)
        cfg = StyleConfig(network=network, content_weight=1.0, style_weight=1.0 / ratio,
                          max_size=size, steps=steps, seed=s.seed)  # fmt: skip
        out = stylize(content, [style], cfg, device=s.device).image
        grid.append(out)
        style_distance[f"{ratio:g}"] = _gram_distance(judge, out, ref)
        content_error[f"{ratio:g}"] = round(float((out - small).abs().mean()), 4)
    save_image(_tile_row(recon + [small], 192), folder / "content_reconstructions.png")
    save_image(_tile_row(grid + [style], 192), folder / "style_content_ratio.png")
    e, d = list(pixel_error.values()), list(style_distance.values())
    finding = ("content reconstructions' mean pixel error from conv1_1 to pool4 depth: "
               + ", ".join(f"{v:.3f}" for v in e) + "; as alpha/beta falls from "
               f"{ratios[0]:g} to {ratios[-1]:g}, the Gram distance to the style goes "
               + " -> ".join(f"{v:.3f}" for v in d) + " and the pixel distance to the photo "
               + " -> ".join(f"{v:.3f}" for v in content_error.values()))  # fmt: skip
    setup = (
        f"{network} at {size} px, L-BFGS {steps} evaluations. Row 1: the photo "
        "reconstructed from white noise by its features at one layer (no style), from "
        "shallow to deep, then the photo. Row 2: style transfer with content/style weight "
        f"ratios {', '.join(f'{r:g}' for r in ratios)}, then the style image."
    )
    numbers = {
        "network": network,
        "reconstruction_pixel_error": pixel_error,
        "style_gram_distance": style_distance,
        "content_pixel_error": content_error,
    }
    return Outcome(setup, numbers, ["content_reconstructions.png", "style_content_ratio.png"],
                   finding)  # fmt: skip


TEXTURE_LAYERS = Experiment(
    "texture-layers",
    "Texture is the statistics of deep features",
    "Matching Gram matrices of more and deeper layers gives textures with larger, more "
    "faithful structures; shallow layers alone give only colour and fine grain.",
    "Gatys, Ecker, Bethge 2015, Fig. 2",
    run=texture_layers,
    verdict=verdicts.texture_layers,
)


STYLE_TRADEOFF = Experiment(
    "style-tradeoff",
    "Style and content separate",
    "Content reconstructed from deeper layers keeps the layout but loses the exact pixels; the "
    "ratio of content to style weight moves the result smoothly from the photo to the style.",
    "Gatys, Ecker, Bethge 2016, Fig. 3 and 4",
    run=style_tradeoff,
    verdict=verdicts.style_tradeoff,
)
