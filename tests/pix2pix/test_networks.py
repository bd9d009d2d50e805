"""pix2pix networks: shapes, the reference's parameter layout, identical outputs, loading."""

from __future__ import annotations

import pytest
import torch

from photogen.core.weights import REGISTRY, WeightsError, copy_into_cache, resolve
from photogen.pix2pix import networks as N
from photogen.pix2pix.models import RELEASED, infer_spec, load_generator
from tests.pix2pix import reference as R

GENS = ["unet_256", "unet_128", "resnet_9blocks", "resnet_6blocks"]


def _ours_and_reference(netG: str, norm: str, ngf: int = 8, seed: int = 0):
    ours = N.init_weights(
        N.define_G(netG, 3, 3, ngf, norm, True), generator=torch.Generator().manual_seed(seed)
    )
    ref = R.define_G(3, 3, ngf, netG, norm, True)
    ref.load_state_dict(ours.state_dict())
    return ours, ref


@pytest.mark.parametrize("netG", GENS)
@pytest.mark.parametrize("size", [128, 256])
def test_generator_shapes(netG, size):
    if netG == "unet_256" and size == 128:
        pytest.skip("unet_256 needs sides that are multiples of 256")
    G = N.define_G(netG, 3, 2, ngf=4).eval()
    with torch.no_grad():
        y = G(torch.rand(2, 3, size, size) * 2 - 1)
    assert y.shape == (2, 2, size, size)
    assert y.abs().max() <= 1.0  # tanh


@pytest.mark.parametrize(
    "netD, n_layers, size, out", [("basic", 3, 256, 30), ("basic", 3, 128, 14),
                                  ("n_layers", 4, 256, 14), ("pixel", 3, 128, 128)]
)  # fmt: skip
def test_discriminator_shapes(netD, n_layers, size, out):
    D = N.define_D(netD, 6, 8, n_layers)
    assert D(torch.rand(2, 6, size, size)).shape == (2, 1, out, out)


def test_parameter_counts_match_the_paper_networks():
    G, D = N.define_G("unet_256"), N.define_D("basic")
    assert sum(p.numel() for p in G.parameters()) == 54_413_955
    assert sum(p.numel() for p in D.parameters()) == 2_768_705
    keys = list(G.state_dict())
    assert keys[0] == "model.model.0.weight" and "model.model.3.bias" in keys


@pytest.mark.parametrize("norm", ["batch", "instance", "none"])
def test_state_dict_layout_is_the_reference_one(norm):
    for netG in GENS:
        ours, ref = N.define_G(netG, 3, 3, 8, norm), R.define_G(3, 3, 8, netG, norm, True)
        a, b = ours.state_dict(), ref.state_dict()
        assert list(a) == list(b), netG
        assert all(a[k].shape == b[k].shape for k in a), netG
        assert infer_spec(a).netG == netG and infer_spec(a).norm == norm
    for netD in ["basic", "n_layers", "pixel"]:
        a = N.define_D(netD, 6, 8, 4, norm).state_dict()
        b = R.define_D(6, 8, netD, 4, norm).state_dict()
        assert list(a) == list(b) and all(a[k].shape == b[k].shape for k in a), netD


@pytest.mark.parametrize("netG", ["unet_256", "resnet_9blocks"])
@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_same_output_as_the_reference(netG, norm):
    ours, ref = _ours_and_reference(netG, norm)
    x = torch.rand(2, 3, 256, 256) * 2 - 1
    for train_mode in (False, True):  # --eval, and the paper's test mode (dropout, batch stats)
        ours.train(train_mode)
        ref.train(train_mode)
        with torch.no_grad():
            torch.manual_seed(3)
            a = ours(x)
            torch.manual_seed(3)
            b = ref(x)
        assert (a - b).abs().max() < 1e-5


def test_unet_skip_carries_the_activated_input():
    # The reference's in-place LeakyReLU rewrites the skip tensor before torch.cat.
    block = N.UnetSkipConnectionBlock(4, 4, innermost=True, norm="none")
    x = torch.randn(1, 4, 2, 2)
    y = block(x.clone())
    assert torch.equal(y[:, :4], torch.nn.functional.leaky_relu(x, 0.2))


def test_load_generator_reads_the_architecture_off_the_file(tmp_path):
    ours, _ = _ours_and_reference("unet_256", "batch")
    state = {f"module.{k}": v for k, v in ours.state_dict().items() if "num_batches" not in k}
    path = tmp_path / "latest_net_G.pth"
    torch.save(state, path)  # an old, DataParallel-saved checkpoint: no counters, module. prefix
    G = load_generator(path, eval_mode=True)
    assert not G.training
    x = torch.rand(1, 3, 256, 256)
    with torch.no_grad():
        assert torch.allclose(G(x), ours.eval()(x), atol=1e-6)
    with pytest.raises(WeightsError, match="unet_256 with batch norm, not the resnet_9blocks"):
        load_generator(path, netG="resnet_9blocks")
    torch.save({"conv.weight": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(WeightsError, match="not a pix2pix generator"):
        load_generator(tmp_path / "other.pth")


def test_released_models_are_registered_and_pinned_on_first_use(tmp_path, monkeypatch):
    monkeypatch.setenv("PHOTOGEN_HOME", str(tmp_path / "home"))
    for name in RELEASED:
        entry = REGISTRY[f"pix2pix_{name}"]
        assert entry.url.endswith(f"/pix2pix/models-pytorch/{name}.pth")
        assert entry.verify is not None
    # A released-format file served locally: verified, then its sha256 pinned.
    ours, _ = _ours_and_reference("unet_256", "batch", ngf=4)
    served = tmp_path / "edges2shoes.pth"
    torch.save(ours.state_dict(), served)
    entry = REGISTRY["pix2pix_edges2shoes"]
    monkeypatch.setitem(
        REGISTRY, entry.name, type(entry)(**{**entry.__dict__, "url": served.as_uri()})
    )
    path = resolve("pix2pix_edges2shoes")
    assert (path.parent / (path.name + ".sha256")).is_file()
    assert load_generator("edges2shoes").state_dict()["model.model.0.weight"].shape[0] == 4
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")  # tampered afterwards
    with pytest.raises(WeightsError, match="differs from the full digest pinned"):
        resolve("pix2pix_edges2shoes")
    # A download with the wrong structure is refused before it reaches the cache.
    path.unlink()
    (path.parent / (path.name + ".sha256")).unlink()
    torch.save(N.define_G("resnet_9blocks", ngf=4).state_dict(), served)
    with pytest.raises(WeightsError, match="expected a 3->3 unet_256"):
        resolve("pix2pix_edges2shoes")
    assert not path.exists()
    with pytest.raises(WeightsError, match="expected a 3->3 unet_256"):
        copy_into_cache("pix2pix_edges2shoes", served)  # installing by hand checks it too
    torch.save(ours.state_dict(), served)
    assert copy_into_cache("pix2pix_edges2shoes", served) == path
    assert (path.parent / (path.name + ".sha256")).is_file()
