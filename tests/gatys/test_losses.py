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
    g = torch.Generator().manual_seed(0)
    target = {"a": torch.rand(1, 3, 4, 4, generator=g, dtype=torch.float64)}
    t = {"a": gram_matrix(target["a"]).double()}
    x = torch.rand(1, 3, 4, 4, generator=g, dtype=torch.float64, requires_grad=True)

    def fn(x):
        # gram_matrix computes in float32 for speed; check the algebra in float64 here.
        f = x.reshape(1, 3, 16)
        gram = f @ f.transpose(1, 2) / 16
        return ((gram - t["a"]) ** 2).sum() / (t["a"] ** 2).sum()

    assert torch.autograd.gradcheck(fn, (x,))
    loss = style_loss({"a": x.float()}, {"a": t["a"].float()}, {"a": 1.0})
    assert torch.allclose(loss.double(), fn(x), rtol=1e-4)
    assert style_loss(target, style_targets(target), {"a": 1.0}) < 1e-12


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
