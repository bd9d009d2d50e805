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
    with torch.no_grad():
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


def test_tileable_output_has_no_seam(tiny_texture):
    src = read_image(tiny_texture)
    cfg = TextureConfig(
        network="random_multiscale",
        size=(32, 32),
        steps=30,
        levels=1,
        tileable=True,
        histogram_match=False,
        tv_weight=5.0,
    )
    img = synthesize_texture(src, cfg).image
    interior = (img[..., 1:] - img[..., :-1]).abs().mean()
    seam = (img[..., 0] - img[..., -1]).abs().mean()
    assert seam < 2 * interior


def test_bad_config_is_a_value_error(tiny_texture):
    src = read_image(tiny_texture)
    with pytest.raises(ValueError, match="network"):
        synthesize_texture(src, TextureConfig(network="alexnet"))
    with pytest.raises(ValueError, match="source"):
        synthesize_texture(src[0], TextureConfig())
