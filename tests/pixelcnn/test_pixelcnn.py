"""Gated PixelCNN: causal masks without a blind spot, likelihoods, samplers, training, CLI."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import torch
from PIL import Image

from photogen.cli.main import main
from photogen.core.image import read_image
from photogen.pixelcnn.data import FASHION_MNIST, OPENCV_DIGITS, PatchSampler, load_source
from photogen.pixelcnn.logistic import mixture_log_prob
from photogen.pixelcnn.model import PixelCNN, PixelCNNConfig
from photogen.pixelcnn.sample import complete, sample_fast, sample_naive
from photogen.pixelcnn.train import TrainConfig, load_model, train


def _model(channels=3, output="softmax", classes=0, seed=0, gain=3.0, **kw) -> PixelCNN:
    torch.manual_seed(seed)
    cfg = PixelCNNConfig(channels=channels, hidden=4 * channels * (3 if channels == 1 else 1),
                         layers=4, kernel=3, first_kernel=5, output=output, mixtures=2,
                         num_classes=classes, **kw)  # fmt: skip
    model = PixelCNN(cfg).double()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(gain)  # far from uniform, so that samples depend on everything
    return model


@pytest.mark.parametrize("output", ["softmax", "logistic"])
def test_causal_in_raster_and_rgb_order_without_blind_spot(output):
    model = _model(output=output, gain=1.0)  # unsaturated gates: every path has a gradient
    cfg = model.config
    size, i, j = 12, 8, 5
    xf = (torch.rand(1, 3, size, size, dtype=torch.float64) * 2 - 1).requires_grad_()
    out = model.forward_scaled(xf)
    heads = range(3) if output == "softmax" else [None]
    for c in heads:
        target = out[0, c, :, i, j].sum() if c is not None else out[0, :, i, j].sum()
        (grad,) = torch.autograd.grad(target, xf, retain_graph=True)
        seen = grad[0].abs() > 0  # (3, H, W)
        rows, cols = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
        earlier = (rows < i) | ((rows == i) & (cols < j))
        own = torch.zeros(3, size, size, dtype=torch.bool)
        if c is not None:
            own[:c, i, j] = True  # G sees the pixel's R, B sees R and G
        allowed = earlier[None].expand(3, -1, -1) | own
        assert not (seen & ~allowed).any(), f"channel {c} sees the future"
        assert torch.equal(seen[:, i, j], own[:, i, j])
        near = (
            earlier
            & (rows >= i - cfg.receptive_rows())
            & ((cols - j).abs() <= cfg.receptive_cols())
        )
        assert seen.any(0)[near].all(), "blind spot: an earlier pixel in the field is ignored"


def test_logistic_mixture_is_a_distribution():
    torch.manual_seed(0)
    params = torch.randn(1, 3 * 3, 1, 1) * 2  # grey, 3 components
    x = torch.arange(256).view(256, 1, 1, 1)
    logp = mixture_log_prob(params.expand(256, -1, -1, -1), x, 256)
    assert torch.logsumexp(logp.flatten(), 0).exp() == pytest.approx(1.0, abs=1e-4)
    params = torch.randn(1, 10 * 2, 1, 1)  # RGB with coupled means, 8 levels: 512 colours
    grid = torch.stack(torch.meshgrid(*[torch.arange(8)] * 3, indexing="ij"), 0).reshape(3, -1)
    x = grid.T.reshape(-1, 3, 1, 1)
    logp = mixture_log_prob(params.expand(len(x), -1, -1, -1), x, 8)
    assert torch.logsumexp(logp.flatten(), 0).exp() == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("channels, output, classes", [(3, "softmax", 0), (3, "logistic", 0),
                                                       (1, "softmax", 3)])  # fmt: skip
def test_fast_sampler_equals_naive_sampler(channels, output, classes):
    model = _model(channels, output, classes)
    y = torch.tensor([0, 2]) if classes else None
    a = sample_naive(model, 2, (6, 9), seed=7, y=y, temperature=0.9)
    b = sample_fast(model, 2, (6, 9), seed=7, y=y, temperature=0.9)
    assert torch.equal(a, b)
    assert a.float().std() > 10  # not a constant image
    assert not torch.equal(a, sample_fast(model, 2, (6, 9), seed=8, y=y, temperature=0.9))


def test_completion_keeps_visible_pixels_and_matches_naive():
    model = _model()
    image = torch.randint(0, 256, (3, 10, 10))
    mask = torch.ones(10, 10, dtype=torch.bool)
    mask[3:6, 2:8] = False
    fast = complete(model, image, mask, 3, fast=True, seed=1)
    assert torch.equal(fast[:, :, mask], image[:, mask].expand(3, -1, -1))
    assert not torch.equal(fast[0], fast[1])  # alternative completions
    assert torch.equal(fast, complete(model, image, mask, 3, fast=False, seed=1))


@pytest.fixture
def texture(tmp_path):
    """A 48x48 colour texture: diagonal stripes with a little noise."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:48, 0:48]
    stripes = ((xx + yy) // 3 % 2).astype(np.float32)
    rgb = np.stack([stripes * 200 + 30, 80 + 100 * (1 - stripes), stripes * 60 + 90], -1)
    rgb = np.clip(rgb + rng.normal(0, 6, rgb.shape), 0, 255).astype(np.uint8)
    path = tmp_path / "stripes.png"
    Image.fromarray(rgb).save(path)
    return path


def _cfg(texture, run, **kw):
    base = dict(patch=12, steps=6, batch_size=8, hidden=24, layers=3, first_kernel=5,
                save_every=3, sample_every=6, val_every=3, lr=3e-3)  # fmt: skip
    return TrainConfig(source=str(texture), run_dir=str(run), **{**base, **kw})


def test_texture_split_and_loss_decreases(texture, tmp_path):
    sampler = PatchSampler(load_source(texture), 12)
    assert sampler.split == 48 - 12  # held-out strip: 15% of 48 rounds below one patch
    result = train(_cfg(texture, tmp_path / "run", steps=40, val_every=40), torch.device("cpu"))
    with open(tmp_path / "run" / "log.csv") as f:
        bpd = [float(r["bits_per_dim"]) for r in csv.DictReader(f)]
    assert np.mean(bpd[-5:]) < np.mean(bpd[:5]) - 1.0
    assert result["val_bits_per_dim"] < 7.0  # uniform would be 8
    model = load_model(tmp_path / "run")
    assert model.config.channels == 3 and (tmp_path / "run" / "samples").is_dir()


def test_resume_continues_exactly(texture, tmp_path):
    train(_cfg(texture, tmp_path / "full"), torch.device("cpu"))
    train(_cfg(texture, tmp_path / "part", steps=3), torch.device("cpu"))
    train(_cfg(texture, tmp_path / "part"), torch.device("cpu"), resume=True)
    rows = [(tmp_path / r / "log.csv").read_text().splitlines() for r in ("full", "part")]
    rows = [list(csv.DictReader(lines)) for lines in rows]
    strip = lambda rs: [(r["bits_per_dim"], r["val_bits_per_dim"]) for r in rs]  # noqa: E731
    assert strip(rows[0]) == strip(rows[1])


@pytest.mark.skipif(not FASHION_MNIST.is_dir(), reason="Debian dataset-fashion-mnist absent")
def test_fashion_mnist_source():
    src = load_source("fashion-mnist")
    assert src.train.shape == (60000, 1, 28, 28) and src.val.shape == (10000, 1, 28, 28)
    assert src.num_classes == 10 and src.train.dtype == torch.uint8


@pytest.mark.skipif(not OPENCV_DIGITS.is_file(), reason="Debian opencv-doc absent")
def test_digits_source():
    src = load_source("digits")
    assert src.train.shape[1:] == (1, 20, 20) and len(src.train) + len(src.val) == 5000
    assert src.num_classes == 10


def test_cli_end_to_end_on_a_16px_texture(tmp_path):
    rng = np.random.default_rng(1)
    tile = np.kron(rng.integers(0, 2, (4, 4, 1)), np.ones((4, 4, 3))) * 180 + 40
    Image.fromarray(tile.astype(np.uint8)).save(tmp_path / "t16.png")
    run = tmp_path / "run"
    train_cmd = ["pixelcnn", "train", str(tmp_path / "t16.png"), "--name", str(run), "--patch",
                 "8", "--steps", "4", "--batch-size", "4", "--hidden", "12", "--layers", "2",
                 "--save-every", "2", "--sample-every", "4", "-q"]  # fmt: skip
    assert main(train_cmd) == 0
    assert main(["pixelcnn", "sample", "--model", str(run), "--size", "16x24", "--n", "2",
                 "-o", str(tmp_path / "s.png"), "-q"]) == 0  # fmt: skip
    assert read_image(tmp_path / "s.png").shape == (1, 3, 16, 2 * 24 + 2)
    out = tmp_path / "c.png"
    assert main(["pixelcnn", "complete", str(tmp_path / "t16.png"), "--box", "4,4,8,6",
                 "--model", str(run), "--n", "2", "-o", str(out), "-q"]) == 0  # fmt: skip
    panel = read_image(out)
    assert panel.shape == (1, 3, 16, 4 * 16 + 3 * 2)
    original = read_image(tmp_path / "t16.png")
    for k in (1, 2, 3):  # original and both completions keep the visible pixels
        x0 = k * 18
        part = panel[..., x0 : x0 + 16]
        assert torch.equal(part[..., :4, :], original[..., :4, :])
    with pytest.raises(SystemExit) as exc:  # a box outside the image is a usage error
        main(["pixelcnn", "complete", str(tmp_path / "t16.png"), "--box", "10,10,9,9",
              "--model", str(run), "-o", str(out), "-q"])  # fmt: skip
    assert exc.value.code == 2


def test_bits_per_dim_of_a_uniform_model_is_8():
    model = PixelCNN(PixelCNNConfig(channels=1, hidden=3, layers=1))
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    x = torch.randint(0, 256, (2, 1, 5, 5))
    assert float(model.bits_per_dim(x).detach()) == pytest.approx(math.log2(256), abs=1e-5)
