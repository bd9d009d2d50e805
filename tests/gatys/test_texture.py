import numpy as np
import pytest
import torch

from photogen.core.image import read_image
from photogen.gatys.losses import gram_matrix
from photogen.gatys.texture import TextureConfig, initial_image, synthesize_texture
from photogen.nets.features import FeatureExtractor, build_network


@pytest.fixture(scope="module")
def lite_extractor():
    from photogen.nets.features import NETWORKS

    layers = NETWORKS["efficientnet_lite0"].texture_layers
    return FeatureExtractor(build_network("efficientnet_lite0"), list(layers))


def _gram_distance(ext, a, b):
    fa, fb = ext(a), ext(b)
    return sum(
        ((gram_matrix(fa[k]) - gram_matrix(fb[k])) ** 2).sum() / (gram_matrix(fb[k]) ** 2).sum()
        for k in fa
    )


def test_synthesis_moves_statistics_towards_source(tiny_texture, lite_extractor):
    src = read_image(tiny_texture)
    cfg = TextureConfig(size=(48, 48), steps=40, levels=1, histogram_match=False, seed=3)
    result = synthesize_texture(src, cfg, lite_extractor)
    assert result.image.shape == (1, 3, 48, 48)  # output size independent of the source
    assert result.image.min() >= 0 and result.image.max() <= 1
    losses = result.losses
    assert len(losses) == 40
    assert losses[-1] < 0.2 * losses[0]
    # "Monotonic enough": the best-so-far curve drops in every quarter of the run.
    quarters = [min(losses[: i * 10]) for i in range(1, 5)]
    assert all(a > b for a, b in zip(quarters, quarters[1:], strict=False))
    init = initial_image(src, (48, 48), cfg.init, cfg.noise, torch.Generator().manual_seed(3))
    with torch.no_grad(), lite_extractor.padding("reflect"):  # the statistics it matched
        assert _gram_distance(lite_extractor, result.image, src) < 0.3 * _gram_distance(
            lite_extractor, init, src
        )


def test_seed_reproducible_and_histogram_matched(tiny_texture):
    src = read_image(tiny_texture)
    cfg = TextureConfig(network="random_multiscale", size=(32, 32), steps=5, levels=2, seed=7)
    a = synthesize_texture(src, cfg).image
    b = synthesize_texture(src, cfg).image
    assert torch.equal(a, b)
    for c in range(3):  # same size -> exactly the source's histogram
        assert torch.equal(a[0, c].flatten().sort().values, src[0, c].flatten().sort().values)
    cfg.seed = 8
    assert not torch.equal(a, synthesize_texture(src, cfg).image)


def _seam_ratios(img: torch.Tensor) -> tuple[float, float]:
    """Wrap-around difference (last column/row vs first) over the mean interior one."""
    x = img[0]
    h = (x[..., 0] - x[..., -1]).abs().mean() / (x[..., 1:] - x[..., :-1]).abs().mean()
    v = (x[:, 0] - x[:, -1]).abs().mean() / (x[:, 1:] - x[:, :-1]).abs().mean()
    return float(h), float(v)


@pytest.mark.parametrize("seed", [2, 3])
def test_tileable_output_has_no_seam(tiny_texture, lite_extractor, seed):
    """Both axes, against a plain run with the same seed, through a two-level pyramid (the
    upsampling between levels must wrap around too). Measured here (one thread), vertical
    seam: seed 2 tileable 1.27, plain 1.80, tileable with the old clamped upsampling 1.51;
    seed 3: 1.2 / 2.56 / 1.32 (seeds 0 and 1 do not tell the two upsamplings apart)."""
    src = read_image(tiny_texture)
    ratios = {}
    for tileable in (True, False):
        cfg = TextureConfig(size=(64, 64), steps=40, levels=2, seed=seed, tileable=tileable,
                            histogram_match=False)  # fmt: skip
        ratios[tileable] = _seam_ratios(synthesize_texture(src, cfg, lite_extractor).image)
    for axis in (0, 1):
        assert ratios[True][axis] < ratios[False][axis], ratios
        assert ratios[True][axis] < 1.3, ratios


def test_circular_resize_is_periodic_interpolation():
    from photogen.core.resample import resize

    x = torch.rand(1, 1, 1, 8, dtype=torch.float64)
    up = resize(x, (1, 16), circular=True)[0, 0, 0].numpy()
    src = x[0, 0, 0].numpy()
    coords = (np.arange(16) + 0.5) / 2 - 0.5  # align_corners=False
    lo = np.floor(coords).astype(int)
    t = coords - lo
    expected = (1 - t) * src[lo % 8] + t * src[(lo + 1) % 8]
    np.testing.assert_allclose(up, expected, atol=1e-12)
    assert abs(up[0] - resize(x, (1, 16))[0, 0, 0, 0].item()) > 1e-6  # clamped differs


def _edge_band(img: torch.Tensor, width: int = 2) -> dict[str, float]:
    """Chroma of each edge strip, in standard deviations of the interior rows' chroma."""
    sat = img[0].max(0).values - img[0].min(0).values
    rows, cols = sat.mean(1), sat.mean(0)
    mu, sd = sat[6:-6, 6:-6].mean(), rows[6:-6].std()
    strips = {"top": rows[:width], "bottom": rows[-width:], "left": cols[:width],
              "right": cols[-width:]}  # fmt: skip
    return {k: float((v.mean() - mu) / sd) for k, v in strips.items()}


def test_no_band_of_saturated_colour_at_odd_sizes(lite_extractor):
    """At odd sizes TF-"same" zero padding pads the top and left edges only at some layers;
    the optimiser answered with a band of saturated colour along the top (measured: top strip
    5.9-6.7 standard deviations above the interior with zero padding, under 1.3 with the
    reflection padding texture synthesis now uses)."""
    from photogen.core.resample import resize
    from photogen.core.samples import load_sample

    src = resize(load_sample("chelsea")[..., 100:228, 100:228], (64, 64))
    bands = {}
    for padding in ("reflect", "zeros"):
        cfg = TextureConfig(size=(45, 67), steps=60, levels=1, seed=0, padding=padding)
        bands[padding] = _edge_band(synthesize_texture(src, cfg, lite_extractor).image)
    assert max(abs(v) for v in bands["reflect"].values()) < 2.5, bands
    assert bands["zeros"]["top"] > 4, bands  # the check sees the band where it exists


def test_bad_config_is_a_value_error(tiny_texture):
    src = read_image(tiny_texture)
    with pytest.raises(ValueError, match="network"):
        synthesize_texture(src, TextureConfig(network="alexnet"))
    with pytest.raises(ValueError, match="source"):
        synthesize_texture(src[0], TextureConfig())
