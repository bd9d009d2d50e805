import numpy as np
import pytest
import torch
from skimage import color, exposure

from photogen.core.color import (
    combine_luminance_chroma,
    lab_to_rgb,
    match_histograms,
    rgb_to_lab,
    transfer_luminance_stats,
)


@pytest.fixture
def image():
    g = torch.Generator().manual_seed(0)
    return torch.rand(1, 3, 16, 20, generator=g, dtype=torch.float32)


def test_lab_matches_scikit_image(image):
    ours = rgb_to_lab(image.double())[0].permute(1, 2, 0).numpy()
    ref = color.rgb2lab(image[0].permute(1, 2, 0).double().numpy())
    np.testing.assert_allclose(ours, ref, atol=1e-4)


def test_lab_roundtrip(image):
    back = lab_to_rgb(rgb_to_lab(image.double()))
    assert torch.allclose(back, image.double(), atol=1e-5)


def test_lab_rejects_bad_shape():
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        rgb_to_lab(torch.zeros(3, 4, 4))


def test_histogram_match_agrees_with_scikit_image(image):
    g = torch.Generator().manual_seed(1)
    ref = torch.rand(1, 3, 9, 13, generator=g) ** 2
    ours = match_histograms(image.double(), ref.double())[0].permute(1, 2, 0).numpy()
    sk = exposure.match_histograms(
        image[0].permute(1, 2, 0).double().numpy(),
        ref[0].permute(1, 2, 0).double().numpy(),
        channel_axis=-1,
    )
    # Same quantile mapping; scikit-image interpolates between the 117 reference values.
    assert np.abs(ours - sk).mean() < 0.01
    for c in range(3):  # the order of the source's pixels is kept
        src_order = image[0, c].flatten().argsort().numpy()
        assert (np.diff(ours[..., c].flatten()[src_order]) >= 0).all()


def test_histogram_match_same_size_gives_exact_histogram(image):
    g = torch.Generator().manual_seed(2)
    ref = (torch.rand(1, 3, 16, 20, generator=g) * 8).floor() / 8  # few levels, many ties
    out = match_histograms(image, ref)
    for c in range(3):
        assert torch.equal(out[0, c].flatten().sort().values, ref[0, c].flatten().sort().values)


def test_luminance_stats_and_chroma(image):
    g = torch.Generator().manual_seed(3)
    target = torch.rand(1, 1, 8, 8, generator=g) * 0.2 + 0.5
    moved = transfer_luminance_stats(image[:, :1], target)
    assert torch.allclose(moved.mean(), target.mean(), atol=1e-5)
    assert torch.allclose(moved.std(), target.std(), atol=1e-5)
    other = torch.rand(1, 3, 16, 20, generator=g)
    mixed = rgb_to_lab(combine_luminance_chroma(image, other))
    # L comes from `image`, a*b* from `other` (up to gamut clipping).
    assert (mixed[:, 0] - rgb_to_lab(image)[:, 0]).abs().median() < 1.0
    assert (mixed[:, 1:] - rgb_to_lab(other)[:, 1:]).abs().median() < 2.0


def test_lightness_and_chunked_conversions_agree(monkeypatch):
    import photogen.core.color as color_mod

    g = torch.Generator().manual_seed(5)
    image = torch.rand(1, 3, 37, 29, generator=g)
    whole = rgb_to_lab(image)
    assert torch.allclose(color_mod.lightness(image), whole[:, :1], atol=1e-4)
    back = lab_to_rgb(whole)
    monkeypatch.setattr(color_mod, "_CHUNK_PIXELS", 100)  # 3 rows per slice
    # SIMD tails differ in ulps: 3e-5 (4 ulps of L near 100) on an AVX-512 + AMX CPU
    assert torch.allclose(rgb_to_lab(image), whole, atol=1e-4)
    assert torch.allclose(lab_to_rgb(whole), back, atol=1e-6)
    assert torch.allclose(color_mod.lightness(image), whole[:, :1], atol=1e-4)


def test_luminance_statistics_are_transferred_per_image():
    from photogen.core.color import transfer_luminance_stats

    g = torch.Generator().manual_seed(0)
    luma = torch.rand(2, 1, 6, 7, generator=g) * torch.tensor([1.0, 0.2]).view(2, 1, 1, 1)
    target = torch.rand(2, 1, 5, 4, generator=g) * torch.tensor([0.3, 0.9]).view(2, 1, 1, 1)
    target = target + torch.tensor([0.5, 0.0]).view(2, 1, 1, 1)
    out = transfer_luminance_stats(luma, target)
    assert out.shape == luma.shape
    for i in range(2):
        assert abs(float(out[i].mean() - target[i].mean())) < 1e-6
        assert abs(float(out[i].std() - target[i].std())) < 1e-6
        corr = np.corrcoef(out[i].flatten().numpy(), luma[i].flatten().numpy())[0, 1]
        assert corr > 0.9999  # an affine map of the input, not a new image


def test_lightness_grey_and_l_only_image_against_scikit_image():
    from skimage.color import rgb2gray, rgb2lab

    from photogen.core.color import lightness, lightness_image, rgb_to_gray

    g = torch.Generator().manual_seed(1)
    img = torch.rand(1, 3, 5, 6, generator=g, dtype=torch.float64)
    img[0, :, 0, 0] = 0.0  # black and the darkest levels take the linear branches
    img[0, :, 0, 1] = 0.01
    hwc = img[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(lightness(img)[0, 0].numpy(), rgb2lab(hwc)[..., 0], atol=1e-4)
    l_only = lightness_image(img)
    lab = rgb2lab(l_only[0].permute(1, 2, 0).numpy())
    np.testing.assert_allclose(lab[..., 0], rgb2lab(hwc)[..., 0], atol=1e-3)
    assert np.abs(lab[..., 1:]).max() < 1e-3  # no colour left
    rec601 = hwc @ np.array([0.299, 0.587, 0.114])
    np.testing.assert_allclose(rgb_to_gray(img)[0, 0].numpy(), rec601, atol=1e-6)
    assert not np.allclose(rec601, rgb2gray(hwc), atol=1e-3)  # Rec. 601, not Rec. 709


def test_lightness_of_out_of_range_values_and_of_large_images():
    """Values outside [0, 1] (HDR, filters overshooting) count as clipped, as rgb_to_lab does;
    an image larger than one processing chunk gives the same as row by row."""
    from photogen.core import color as C

    g = torch.Generator().manual_seed(2)
    x = torch.rand(1, 3, 8, 8, generator=g) * 1.6 - 0.3
    torch.testing.assert_close(C.lightness(x), C.lightness(x.clamp(0, 1)))
    torch.testing.assert_close(
        C.lightness(x), C.rgb_to_lab(x.clamp(0, 1))[:, :1], atol=1e-3, rtol=0
    )
    width = 512
    tall = torch.rand(1, 3, C._CHUNK_PIXELS // width * 2 + 3, width, generator=g)
    out = C.lightness(tall)
    assert out.shape == (1, 1, *tall.shape[-2:])
    torch.testing.assert_close(out[..., -3:, :], C.lightness(tall[..., -3:, :]))
