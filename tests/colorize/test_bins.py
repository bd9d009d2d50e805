import numpy as np
import pytest
import torch

from photogen.colorize.bins import (
    annealed_mean,
    convex_hull,
    distance_to_polygon,
    gamut_bins,
    rebalance_weights,
    soft_encode,
    srgb_gamut_ab,
)


def test_313_bins_in_the_released_order():
    bins = gamut_bins.__wrapped__()  # computed here, not taken from the cache
    assert bins.shape == (313, 2)
    assert bins[:3].tolist() == [[-90, 50], [-90, 60], [-90, 70]]
    assert bins[:, 0].min() == -90 and bins[:, 0].max() == 100
    assert bins[:, 1].min() == -110 and bins[:, 1].max() == 100
    keys = (bins[:, 0] * 1000 + bins[:, 1]).tolist()
    assert keys == sorted(keys)  # a, then b
    assert [80.0, 80.0] not in bins.tolist()


def test_80_80_lies_outside_the_rule():
    hull = convex_hull(srgb_gamut_ab())
    assert 10 < distance_to_polygon(np.array([80.0, 80.0]), hull) < 15
    assert distance_to_polygon(np.array([0.0, 0.0]), hull) == 0


def test_interior_colours_lie_inside_the_cube_surface_hull():
    """The cheap form of the slow test below, run by default: every colour of a 52^3 lattice
    through the whole RGB cube (140,608 colours, interior included) lies inside the hull of the
    cube's surface, so that hull is the gamut's."""
    import kornia
    from scipy.spatial import ConvexHull

    surf = srgb_gamut_ab(surface_only=True)
    eq = ConvexHull(surf).equations  # rows (nx, ny, c): inside when nx a + ny b + c <= 0
    v = torch.arange(0, 256, 5, dtype=torch.float64) / 255.0
    r, g, b = torch.meshgrid(v, v, v, indexing="ij")
    rgb = torch.stack([r.flatten(), g.flatten(), b.flatten()]).reshape(1, 3, -1, 1)
    ab = kornia.color.rgb_to_lab(rgb).reshape(3, -1)[1:].T.numpy()
    assert len(ab) == 52**3
    assert (ab @ eq[:, :2].T + eq[:, 2]).max() < 1e-9
    # and the check can fail: a colour outside the surface's hull is seen
    assert (np.array([[80.0, 80.0]]) @ eq[:, :2].T + eq[:, 2]).max() > 1


@pytest.mark.slow
def test_cube_surface_hull_equals_full_gamut_hull():
    full = convex_hull(srgb_gamut_ab(surface_only=False))
    surf = convex_hull(srgb_gamut_ab(surface_only=True))
    assert np.allclose(np.sort(full, axis=0), np.sort(surf, axis=0))


def test_soft_encoding_sums_to_one_and_peaks_at_nearest_bin():
    g = torch.Generator().manual_seed(0)
    ab = torch.rand(2, 2, 3, 4, generator=g) * 120 - 60
    enc = soft_encode(ab, k=5)
    assert enc.shape == (2, 313, 3, 4)
    assert torch.allclose(enc.sum(1), torch.ones(2, 3, 4), atol=1e-6)
    assert ((enc > 0).sum(1) == 5).all()
    nearest = torch.cdist(ab.permute(0, 2, 3, 1).reshape(-1, 2), gamut_bins()).argmin(1)
    assert torch.equal(enc.permute(0, 2, 3, 1).reshape(-1, 313).argmax(1), nearest)
    assert ((soft_encode(ab, k=10) > 0).sum(1) == 10).all()


def test_rebalancing_has_expectation_one_and_favours_rare_bins():
    g = torch.Generator().manual_seed(1)
    prior = torch.rand(313, generator=g) ** 4
    w = rebalance_weights(prior)
    bins = gamut_bins().double()
    smoothed = torch.exp(-torch.cdist(bins, bins).pow(2) / 50) @ (prior.double() / prior.sum())
    smoothed /= smoothed.sum()
    assert torch.isclose((smoothed * w.double()).sum(), torch.tensor(1.0, dtype=torch.float64))
    assert w[smoothed.argmin()] > w[smoothed.argmax()]


def test_annealed_mean_limits():
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(1, 313, 2, 2, generator=g) * 3
    bins = gamut_bins()
    mean = torch.einsum("bqhw,qc->bchw", logits.softmax(1), bins)
    assert torch.allclose(annealed_mean(logits, 1.0), mean, atol=1e-4)
    mode = bins[logits.argmax(1)].permute(0, 3, 1, 2)
    assert torch.allclose(annealed_mean(logits, 0.01), mode, atol=1e-3)
    with pytest.raises(ValueError):
        annealed_mean(logits, 0.0)


def test_gamut_lab_matches_scikit_image():
    from skimage.color import rgb2lab

    ab = srgb_gamut_ab()
    idx = np.random.default_rng(0).choice(len(ab), 2000, replace=False)
    v = np.arange(256) / 255.0
    g1, g2 = np.meshgrid(v, v, indexing="ij")
    rgb = np.stack([np.zeros(65536), g1.ravel(), g2.ravel()], 1)  # first face, as built
    assert np.allclose(ab[idx[idx < 65536]], rgb2lab(rgb[None])[0][idx[idx < 65536], 1:], atol=1e-9)


def test_soft_encoding_equals_a_numpy_transcription():
    """k nearest bins, weights exp(-d^2 / 2 sigma^2) normalised (Zhang et al. 2016, Sec. 2.1)."""
    g = torch.Generator().manual_seed(3)
    ab = torch.rand(2, 2, 3, 2, generator=g, dtype=torch.float64) * 160 - 80
    bins = gamut_bins().double()
    for k, sigma in ((5, 5.0), (3, 8.0)):
        enc = soft_encode(ab, bins, k=k, sigma=sigma)
        assert enc.dtype == torch.float64
        flat = ab.permute(0, 2, 3, 1).reshape(-1, 2).numpy()
        ref = np.zeros((len(flat), 313))
        for i, p in enumerate(flat):
            d2 = ((bins.numpy() - p) ** 2).sum(1)
            near = np.argsort(d2)[:k]
            w = np.exp(-(d2[near] - d2[near].min()) / (2 * sigma**2))
            ref[i, near] = w / w.sum()
        got = enc.permute(0, 2, 3, 1).reshape(-1, 313).numpy()
        np.testing.assert_allclose(got, ref, atol=1e-12)
    with pytest.raises(ValueError, match=r"ab must be \(B, 2, H, W\), got \(1, 3, 2, 2\)"):
        soft_encode(torch.zeros(1, 3, 2, 2))


def test_distance_to_polygon_against_brute_force():
    square = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]])  # anticlockwise
    t = np.linspace(0, 1, 20001)[:, None]
    edges = np.concatenate(
        [a + t * (b - a) for a, b in zip(square, np.roll(square, -1, 0), strict=True)]
    )
    for point, inside in (((5, 5), True), ((10, 5), True), ((15, 5), False), ((5, -3), False),
                          ((13, 14), False), ((-3, -4), False), ((2, 11), False)):  # fmt: skip
        p = np.array(point, dtype=np.float64)
        got = distance_to_polygon(p, square)
        if inside:
            assert got == 0, point
        else:
            assert abs(got - np.sqrt(((edges - p) ** 2).sum(1)).min()) < 1e-6, point


def test_rebalance_weights_follow_eq_4():
    """w = 1 / ((1 - lambda) p~ + lambda / Q), scaled so that E_p~[w] = 1; counts or
    probabilities give the same weights."""
    from photogen.colorize.bins import rebalance_weights

    g = torch.Generator().manual_seed(0)
    counts = torch.rand(313, generator=g) ** 4 * 1000
    w = rebalance_weights(counts, lam=0.5, sigma=5.0).double()
    torch.testing.assert_close(w, rebalance_weights(counts / counts.sum()).double())
    bins = gamut_bins().double().numpy()
    p = (counts / counts.sum()).double().numpy()
    d2 = ((bins[:, None] - bins[None]) ** 2).sum(-1)
    smooth = np.exp(-d2 / 50.0) @ p
    smooth /= smooth.sum()
    ref = 1 / (0.5 * smooth + 0.5 / 313)
    ref /= (smooth * ref).sum()
    np.testing.assert_allclose(w.numpy(), ref, rtol=1e-5)


def test_custom_bins_are_used_and_temperature_checked():
    """soft_encode, rebalance_weights and annealed_mean take other bin sets than the 313."""
    bins = torch.tensor([[0.0, 0.0], [20.0, 0.0], [0.0, 30.0]])
    ab = torch.tensor([[[[19.0]], [[1.0]]]])  # nearest: (20, 0)
    enc = soft_encode(ab, bins, k=1)
    assert enc.shape == (1, 3, 1, 1) and enc[0, :, 0, 0].tolist() == [0.0, 1.0, 0.0]
    w = rebalance_weights(torch.tensor([8.0, 1.0, 1.0]), bins=bins)
    assert w.shape == (3,) and w[0] < w[1]  # the frequent bin weighs less
    logits = torch.tensor([[[[0.0]], [[50.0]], [[0.0]]]])
    torch.testing.assert_close(
        annealed_mean(logits, 0.38, bins)[0, :, 0, 0], torch.tensor([20.0, 0.0])
    )
    with pytest.raises(ValueError, match="temperature must be > 0, got 0"):
        annealed_mean(logits, 0, bins)
