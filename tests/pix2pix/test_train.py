"""pix2pix training: the step equals the reference's, L1 falls, resume is exact, DDP runs."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from photogen.cli.studio import free_port
from photogen.core.image import save_image
from photogen.core.training import LeftoverRunError
from photogen.pix2pix import networks as N
from photogen.pix2pix.step import DiscriminatorPair, Pix2PixStep, gan_loss, make_optimizer
from photogen.pix2pix.train import TrainConfig, linear_decay, train
from tests.conftest import child_failure
from tests.pix2pix import reference as R

CPU = torch.device("cpu")


def _nets(seed=0, ngf=8):
    gen = torch.Generator().manual_seed(seed)
    G = N.init_weights(N.define_G("unet_128", ngf=ngf), generator=gen)
    D = N.init_weights(N.define_D("basic", ndf=8), generator=gen)
    return G, D


def _batch(seed=1):
    gen = torch.Generator().manual_seed(seed)
    b = torch.rand(1, 3, 16, 16, generator=gen)
    b = torch.nn.functional.interpolate(b, size=(128, 128), mode="bilinear") * 2 - 1
    return b.mean(1, keepdim=True).expand(-1, 3, -1, -1).contiguous(), b


@pytest.fixture
def pairs_dir(tmp_path_factory):
    """Six grey|colour pairs of smooth random images, 150 px, with a val/ folder."""
    root = tmp_path_factory.mktemp("pairs")
    gen = torch.Generator().manual_seed(0)
    for phase, n in (("train", 6), ("val", 2)):
        for i in range(n):
            b = torch.rand(1, 3, 10, 10, generator=gen)
            b = torch.nn.functional.interpolate(b, size=(150, 150), mode="bicubic").clamp(0, 1)
            a = b.mean(1, keepdim=True).expand(-1, 3, -1, -1)
            save_image(torch.cat([a, b], -1), root / phase / f"{i}.png")
    return root


def _cfg(data, run, **kw):
    base = dict(netG="unet_128", ngf=8, ndf=8, load_size=143, crop_size=128, n_epochs=1,
                n_epochs_decay=2, save_every=2, display_every=4)  # fmt: skip
    return TrainConfig(data=str(data), run_dir=str(run), **{**base, **kw})


def test_gan_losses():
    logits = torch.tensor([[0.0, 2.0]])
    assert torch.isclose(gan_loss(logits, True), torch.nn.functional.softplus(-logits).mean())
    assert torch.isclose(gan_loss(logits, False, "lsgan"), (logits**2).mean())


def test_lr_policy_is_the_references_linear_rule():
    rule = linear_decay(100, 100)
    assert rule(0) == rule(99) == 1.0
    assert rule(100) == pytest.approx(1 - 1 / 101)
    assert rule(199) == pytest.approx(1 - 100 / 101)


def test_step_matches_the_reference_training_step():
    G, D = _nets()
    rG, rD = R.define_G(3, 3, 8, "unet_128", "batch", True), R.define_D(6, 8, "basic")
    rG.load_state_dict(G.state_dict())
    rD.load_state_dict(D.state_dict())
    ref = R.Pix2PixModel(rG, rD)
    step = Pix2PixStep(G, DiscriminatorPair(D), make_optimizer(G.parameters(), 2e-4, 0.5, CPU),
                       make_optimizer(D.parameters(), 2e-4, 0.5, CPU))  # fmt: skip
    a, b = _batch()
    ref.set_input(a, b)
    for i in range(3):
        torch.manual_seed(i)
        ref.optimize_parameters()
        torch.manual_seed(i)
        ours = step(a, b)
        expected = {"G_GAN": ref.loss_G_GAN, "G_L1": ref.loss_G_L1,
                    "D_real": ref.loss_D_real, "D_fake": ref.loss_D_fake}  # fmt: skip
        for key, value in expected.items():
            assert ours[key] == pytest.approx(float(value.detach()), rel=1e-4, abs=1e-5), (i, key)


def test_one_step_decreases_l1_on_a_fixed_batch():
    G, D = _nets()
    step = Pix2PixStep(G, DiscriminatorPair(D), make_optimizer(G.parameters(), 2e-4, 0.5, CPU),
                       make_optimizer(D.parameters(), 2e-4, 0.5, CPU))  # fmt: skip
    a, b = _batch()

    def l1() -> float:
        G.eval()
        with torch.no_grad():
            value = float((G(a) - b).abs().mean())
        G.train()
        return value

    before = l1()
    step(a, b)
    assert l1() < before


def test_resume_continues_exactly(pairs_dir, tmp_path):
    full = train(_cfg(pairs_dir, tmp_path / "full", max_steps=9), CPU)
    train(_cfg(pairs_dir, tmp_path / "part", max_steps=5), CPU)  # killed after step 5
    with pytest.raises(LeftoverRunError, match="already holds a run"):
        train(_cfg(pairs_dir, tmp_path / "part", max_steps=9), CPU)
    resumed = train(_cfg(pairs_dir, tmp_path / "part", max_steps=9), CPU, resume=True)
    assert full["steps"] == resumed["steps"] == 9

    def rows(run):
        with open(run / "log.csv") as f:
            return [{k: r[k] for k in ("step", "epoch", "G_GAN", "G_L1", "D_real", "D_fake", "lr")}
                    for r in csv.DictReader(f)]  # fmt: skip

    assert rows(tmp_path / "full") == rows(tmp_path / "part")
    assert rows(tmp_path / "full")[-1]["epoch"] == "2"  # 6 pairs per epoch: into the decay
    a = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=True)
    b = torch.load(tmp_path / "part" / "checkpoint.pt", weights_only=True)
    assert all(torch.equal(a["G"][k], b["G"][k]) for k in a["G"])
    assert a["optD"]["state"][0]["exp_avg"].equal(b["optD"]["state"][0]["exp_avg"])
    for name in ("generator.safetensors", "loss.png", "web/index.html", "config.json"):
        assert (tmp_path / "part" / name).is_file(), name
    page = (tmp_path / "part" / "web" / "index.html").read_text()
    assert "val0" in page and "images/train_output.png" in page


def test_ddp_two_cpu_processes(pairs_dir, tmp_path):
    run = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
           "--master-port", str(free_port()), "-m", "photogen.cli.main", "pix2pix", "train",
           str(pairs_dir), "--name", str(run), "--netG", "unet_128", "--ngf", "8", "--ndf", "8",
           "--load-size", "143", "--crop-size", "128", "--n-epochs", "1", "--n-epochs-decay", "0",
           "--threads", "1", "-q"]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, child_failure(proc.stderr)
    ckpt = torch.load(run / "checkpoint.pt", weights_only=True)
    assert ckpt["step"] == 3 and ckpt["epoch"] == 1  # 6 pairs over 2 processes
    assert len(ckpt["rng_all"]) == 2
    assert not torch.equal(ckpt["rng_all"][0]["torch"], ckpt["rng_all"][1]["torch"])
    assert json.loads((run / "config.json").read_text())["world_size"] == 2


def test_ddp_gradients_equal_a_single_process_run(tmp_path):
    """Two processes with one sample each take the same two steps as one process with both
    samples (no normalisation layer, no dropout: nothing couples the samples but the gradient
    mean; with instance norm the biases before it have a zero gradient, all rounding noise)."""
    from tests.pix2pix import ddp_step_worker as w

    out = tmp_path / "ddp.pt"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
           "--master-port", str(free_port()), str(Path(w.__file__)), str(out)]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, child_failure(proc.stderr)
    ddp = torch.load(out, weights_only=True)
    G, D = w.networks()
    start = {k: v.clone() for k, v in G.state_dict().items()}
    a, b = w.batch()
    w.run_steps(G, D, G, DiscriminatorPair(D), a, b)
    for name, net in (("G", G), ("D", D)):
        for k, v in net.state_dict().items():
            torch.testing.assert_close(ddp[name][k], v, rtol=1e-4, atol=1e-6, msg=f"{name}.{k}")
    moved = max((G.state_dict()[k] - start[k]).abs().max() for k in start)
    assert moved > 1e-4  # the steps changed the weights: the comparison is not vacuous
