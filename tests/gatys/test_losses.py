import numpy as np
import pytest
import torch

from photogen.gatys.losses import (
    blended_style_targets,
    content_loss,
    gram_matrix,
    style_loss,
    style_targets,
    tv_loss,
)


def test_gram_matches_numpy():
    rng = np.random.default_rng(0)
    f = rng.standard_normal((2, 5, 4, 6))
    ref = np.einsum("bik,bjk->bij", f.reshape(2, 5, -1), f.reshape(2, 5, -1)) / 24
    ours = gram_matrix(torch.from_numpy(f)).numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-6)


def test_gram_rejects_bad_shape():
    with pytest.raises(ValueError):
        gram_matrix(torch.zeros(5, 4, 6))


def test_style_loss_gradcheck():
    """gradcheck of ``style_loss`` itself (two layers, two weights) in float64, and its value
    against a numpy transcription of eq. 4-5 of Gatys et al. 2015."""
    g = torch.Generator().manual_seed(0)
    shapes = {"a": (1, 3, 4, 4), "b": (1, 5, 2, 3)}
    weights = {"a": 1.0, "b": 0.25}
    targets = style_targets(
        {k: torch.rand(s, generator=g, dtype=torch.float64) for k, s in shapes.items()}
    )
    xs = {
        k: torch.rand(s, generator=g, dtype=torch.float64, requires_grad=True)
        for k, s in shapes.items()
    }

    def fn(xa, xb):
        return style_loss({"a": xa, "b": xb}, targets, weights)

    assert torch.autograd.gradcheck(fn, (xs["a"], xs["b"]))
    ref = 0.0
    for k, w in weights.items():
        f = xs[k].detach().numpy().reshape(shapes[k][1], -1)
        gram = f @ f.T / f.shape[1]
        t = targets[k][0].numpy()
        ref += w * ((gram - t) ** 2).sum() / (t**2).sum()
    assert abs(fn(xs["a"], xs["b"]).item() - ref) < 1e-12
    assert style_loss(xs, style_targets(xs), weights) < 1e-12


def test_blended_targets_equal_weighted_losses():
    g = torch.Generator().manual_seed(1)
    f1, f2 = (torch.rand(1, 4, 5, 5, generator=g) for _ in range(2))
    x = torch.rand(1, 4, 5, 5, generator=g, requires_grad=True)
    blend = blended_style_targets([({"l": f1}, 1.0), ({"l": f2}, 3.0)])
    assert torch.allclose(blend["l"], 0.25 * gram_matrix(f1) + 0.75 * gram_matrix(f2))
    # Same gradient as 0.25 |G - G1|^2 + 0.75 |G - G2|^2 (they differ by a constant).
    gx = gram_matrix(x)
    direct = 0.25 * (gx - gram_matrix(f1)).pow(2).sum() + 0.75 * (gx - gram_matrix(f2)).pow(2).sum()
    (grad_direct,) = torch.autograd.grad(direct, x)
    (grad_blend,) = torch.autograd.grad((gram_matrix(x) - blend["l"]).pow(2).sum(), x)
    assert torch.allclose(grad_direct, grad_blend, atol=1e-5)


def test_content_and_tv():
    p = torch.rand(1, 3, 4, 4)
    assert content_loss(p, p) == 0
    assert torch.isclose(content_loss(torch.zeros_like(p), p), torch.tensor(1.0))
    flat = torch.ones(1, 3, 8, 8)
    assert tv_loss(flat) == 0 and tv_loss(flat, circular=True) == 0
    ramp = torch.linspace(0, 1, 8).view(1, 1, 1, 8).expand(1, 3, 8, 8)
    assert tv_loss(ramp, circular=True) > tv_loss(ramp)  # the wrap-around edge counts


def test_content_loss_and_blend_errors():
    """|F - P|^2 / |P|^2 also for a target of small norm; a blend whose weights do not sum to
    a positive number is refused with a message saying so."""
    f = torch.tensor([[[[0.3, 0.1]]]], dtype=torch.float64)
    p = torch.tensor([[[[0.1, 0.2]]]], dtype=torch.float64)
    assert abs(float(content_loss(f, p)) - (0.04 + 0.01) / 0.05) < 1e-12
    with pytest.raises(ValueError, match="^style blend weights must sum to a positive number$"):
        blended_style_targets([({"l": torch.rand(1, 2, 3, 3)}, 0.0)])


def test_tv_loss_and_a_valid_small_blend():
    """TV = mean squared horizontal + vertical neighbour differences (numpy), circular too; a
    blend whose weights sum to less than 1 is valid."""
    g = torch.Generator().manual_seed(3)
    x = torch.rand(1, 3, 5, 6, generator=g, dtype=torch.float64)
    a = x[0].numpy()
    ref = (np.diff(a, axis=2) ** 2).mean() + (np.diff(a, axis=1) ** 2).mean()
    assert abs(float(tv_loss(x)) - ref) < 1e-12
    ref_c = ((a - np.roll(a, 1, 2)) ** 2).mean() + ((a - np.roll(a, 1, 1)) ** 2).mean()
    assert abs(float(tv_loss(x, circular=True)) - ref_c) < 1e-12
    f = torch.rand(1, 2, 3, 3, generator=g)
    blend = blended_style_targets([({"l": f}, 0.2), ({"l": f * 2}, 0.3)])
    torch.testing.assert_close(blend["l"], 0.4 * gram_matrix(f) + 0.6 * gram_matrix(f * 2))
