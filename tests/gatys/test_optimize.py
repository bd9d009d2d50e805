import pytest
import torch

from photogen.gatys.optimize import auto_multires, estimate_memory, optimize_image
from photogen.gatys.style import StyleConfig
from photogen.nets.features import FeatureExtractor, build_network


@pytest.mark.parametrize("multires", [1, 3])
@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_reaches_a_known_minimum(multires, optimizer):
    g = torch.Generator().manual_seed(0)
    target = torch.rand(1, 3, 20, 28, generator=g) * 0.8 + 0.1
    init = torch.full_like(target, 0.5)

    def loss_fn(x):
        loss = (x - target).pow(2).sum()
        return loss, {"l2": loss.item()}

    seen = []
    steps = 40 if optimizer == "lbfgs" else 300
    lr = None if optimizer == "lbfgs" else 0.01
    out, losses = optimize_image(
        init,
        loss_fn,
        steps,
        optimizer,
        lr,
        callback=lambda s, *a: seen.append(s),
        multires=multires,
    )
    assert len(losses) == steps and seen == list(range(1, steps + 1))
    assert (out - target).abs().max() < 0.02
    assert out.shape == init.shape and out.is_contiguous()


def test_first_evaluation_sees_the_initial_image():
    init = torch.rand(1, 3, 16, 16)
    first = []

    def loss_fn(x):
        if not first:
            first.append(x.detach().clone())
        return x.sum(), {}

    optimize_image(init, loss_fn, 1, multires=4)
    assert torch.allclose(first[0], init, atol=1e-6)  # coarser levels start at zero


def test_clamping_and_bad_arguments():
    init = torch.full((1, 3, 8, 8), 0.5)
    out, _ = optimize_image(init, lambda x: (-(x.sum()), {}), 10)
    assert out.min() >= 0 and out.max() <= 1
    with pytest.raises(ValueError):
        optimize_image(init, lambda x: (x.sum(), {}), 0)
    with pytest.raises(ValueError):
        optimize_image(init, lambda x: (x.sum(), {}), 1, optimizer="sgd")
    with pytest.raises(FloatingPointError):
        optimize_image(init, lambda x: (x.sum() * float("nan"), {}), 1)
    assert auto_multires((170, 256)) == 3 and auto_multires((341, 512)) == 4
    with pytest.raises(ValueError, match="multires_fraction"):
        StyleConfig(multires_fraction=2).validate(1)


def test_memory_estimate_scales_with_area():
    ext = FeatureExtractor(build_network("random_multiscale"), ["scale0", "scale1"])
    small, big = estimate_memory(ext, 64, 64), estimate_memory(ext, 128, 128)
    assert 3.5 < big / small < 4.5
