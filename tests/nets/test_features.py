import pytest
import torch

from photogen.nets.efficientnet_lite import SamePadConv2d
from photogen.nets.features import NETWORKS, FeatureExtractor, build_network
from photogen.nets.random_multiscale import random_multiscale


@pytest.mark.parametrize("name", ["vgg19", "random_multiscale", "efficientnet_lite0"])
def test_extractor_returns_default_layers(name):
    kwargs = {"weights": None} if name != "random_multiscale" else {}
    spec = NETWORKS[name]
    ext = FeatureExtractor(build_network(name, **kwargs), [*spec.style_layers, spec.content_layer])
    out = ext(torch.rand(1, 3, 48, 48))
    assert set(out) == set(spec.style_layers) | {spec.content_layer}
    assert all(not p.requires_grad for p in ext.parameters())


def test_unknown_layer_is_a_clear_error():
    with pytest.raises(ValueError, match="available"):
        FeatureExtractor(build_network("random_multiscale"), ["conv1_1"])


def test_tileable_switches_padding_and_restores():
    ext = FeatureExtractor(build_network("vgg19", weights=None), ["relu1_1"])
    conv = ext.net.features[0]
    with ext.tileable():
        assert conv.padding_mode == "circular"
        x = torch.rand(1, 3, 16, 16)
        shifted = torch.roll(x, shifts=(5, 7), dims=(2, 3))
        a, b = ext(x)["relu1_1"], ext(shifted)["relu1_1"]
        # Circular padding makes convolution shift-equivariant on the torus.
        assert torch.allclose(torch.roll(a, shifts=(5, 7), dims=(2, 3)), b, atol=1e-5)
    assert conv.padding_mode == "zeros"
    eff = FeatureExtractor(build_network("efficientnet_lite0", weights=None), ["stem"])
    with eff.tileable():
        assert eff.net._conv_stem.pad_mode == "circular"
    assert eff.net._conv_stem.pad_mode == "constant"
    assert isinstance(eff.net._conv_stem, SamePadConv2d)


def test_random_multiscale_is_a_function_of_the_seed():
    a, b, c = random_multiscale(seed=1), random_multiscale(seed=1), random_multiscale(seed=2)
    x = torch.rand(1, 3, 32, 32)
    fa = a.extract(x, ["scale2"])["scale2"]
    assert torch.equal(fa, b.extract(x, ["scale2"])["scale2"])
    assert not torch.equal(fa, c.extract(x, ["scale2"])["scale2"])
    assert fa.shape == (1, 3 * 128, 8, 8)


def test_fast_paths_give_the_same_activations():
    net = build_network("efficientnet_lite0")
    spec = NETWORKS["efficientnet_lite0"]
    layers = [*spec.style_layers, spec.content_layer]
    fast = FeatureExtractor(net, layers)
    plain = FeatureExtractor(net, layers, fuse=False, channels_last=False)
    x = torch.rand(1, 3, 40, 56, requires_grad=True)
    a, b = fast(x), plain(x)
    for k in layers:
        assert torch.allclose(a[k], b[k], atol=1e-4, rtol=1e-4), k
    (ga,) = torch.autograd.grad(sum(v.sum() for v in a.values()), x)
    (gb,) = torch.autograd.grad(sum(v.sum() for v in b.values()), x)
    assert torch.allclose(ga, gb, atol=1e-3, rtol=1e-3)


def test_fid_inception_layout_and_offline_message(tmp_path, monkeypatch):
    from photogen.core.weights import WeightsError
    from photogen.nets.inception import fid_inception_v3
    from photogen.pix2pix.metrics import fid_features

    model = fid_inception_v3(None)
    # torchvision's inception_v3 without the auxiliary head, with 1008 classes
    assert sum(p.numel() for p in model.parameters()) == 23_850_960
    keys = list(model.state_dict())
    assert keys[0] == "Conv2d_1a_3x3.conv.weight" and "Mixed_7c.branch_pool.bn.running_var" in keys
    torch.save(model.state_dict(), tmp_path / "pt_inception.pth")
    loaded = fid_inception_v3(tmp_path / "pt_inception.pth")
    with torch.no_grad():
        x = torch.rand(2, 3, 64, 80)
        assert torch.equal(loaded.features(x), model.features(x))
        assert model.features(x).shape == (2, 2048)
    monkeypatch.setenv("PHOTOGEN_HOME", str(tmp_path / "home"))
    monkeypatch.setattr("urllib.request.urlopen", _offline)
    with pytest.raises(WeightsError, match="pt_inception-2015-12-05-6726825d.pth"):
        fid_features("inception", torch.device("cpu"))


def test_fid_inception_equals_the_pytorch_fid_definition():
    """Same output as a functional transcription of pytorch-fid's blocks (tests/nets/
    fid_reference.py) for the same random weights, with batch-norm statistics made non-trivial
    so that every layer matters. Catches a padded average pool, an average pool in the last
    block, or another input scaling (each changes pool3 by far more than 1e-4)."""
    from photogen.nets.inception import fid_inception_v3
    from tests.nets.fid_reference import pool3_features

    torch.manual_seed(0)
    model = fid_inception_v3(None)
    sd = model.state_dict()
    g = torch.Generator().manual_seed(1)
    for k, v in sd.items():
        if k.endswith("conv.weight"):  # He initialisation: the input's signal reaches pool3
            v.copy_(torch.randn(v.shape, generator=g) * (2.0 / v[0].numel()) ** 0.5)
        elif k.endswith("running_mean"):
            v.copy_(0.05 * torch.randn(v.shape, generator=g))
        elif k.endswith("running_var"):
            v.copy_(0.8 + 0.4 * torch.rand(v.shape, generator=g))
    x = torch.rand(2, 3, 48, 64, generator=g)
    with torch.no_grad():
        ours = model.features(x)
        ref = pool3_features(sd, x)
    spread = (ours[0] - ours[1]).abs().mean() / ours.abs().mean()
    assert spread > 0.01  # different images give different features: every layer is alive
    torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-4 * float(ref.abs().mean()))


def _offline(*args, **kwargs):
    import urllib.error

    raise urllib.error.URLError("offline")
