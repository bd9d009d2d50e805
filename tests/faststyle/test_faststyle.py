"""Fast style networks (Johnson et al. 2016): the network, training that resumes exactly, the
saved model, the CLI."""

from __future__ import annotations

import pytest
import torch

from photogen.cli.main import main
from photogen.core.image import read_image, save_image
from photogen.core.resample import resize
from photogen.core.samples import load_sample
from photogen.faststyle.network import FastStyleConfig, TransformNet
from photogen.faststyle.train import TrainConfig, load_model, train
from tests.conftest import child_failure


@pytest.fixture(scope="module")
def content_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("content")
    for name in ("coffee", "astronaut", "rocket"):
        save_image(resize(load_sample(name), (96, 128)), folder / f"{name}.png")
    return folder


@pytest.fixture(scope="module")
def style_file(tmp_path_factory):
    return save_image(resize(load_sample("gravel"), (96, 96)),
                      tmp_path_factory.mktemp("style") / "gravel.png")  # fmt: skip


def _config(style, steps):
    return TrainConfig(style=str(style), steps=steps, size=64, batch=2, style_size=96,
                       style_weight=20, save_every=3, gallery_every=100, seed=1)  # fmt: skip


def test_any_size_in_and_the_same_size_out():
    torch.manual_seed(0)
    net = TransformNet().eval().requires_grad_(False)
    for h, w in ((64, 64), (37, 51), (250, 333)):
        y = net(torch.rand(1, 3, h, w))
        assert y.shape == (1, 3, h, w) and float(y.min()) >= 0 and float(y.max()) <= 1
    slim = sum(p.numel() for p in TransformNet().parameters())
    paper = sum(p.numel() for p in TransformNet(FastStyleConfig.paper()).parameters())
    assert paper > 5 * slim  # the paper's 32-64-128 x 5 blocks against 16-32-64 x 3
    norms = [m for m in net.modules() if isinstance(m, torch.nn.InstanceNorm2d)]
    ups = [m for m in net.modules() if type(m).__name__ == "_Up"]
    assert norms and len(ups) == 2 and not any(isinstance(m, torch.nn.BatchNorm2d | torch.nn.
               ConvTranspose2d) for m in net.modules())  # fmt: skip


def test_training_lowers_the_style_loss_and_resumes_exactly(content_dir, style_file, tmp_path):
    whole = tmp_path / "whole"
    train(_config(style_file, 12), whole, content=[str(content_dir)], log=lambda m: None)
    import dataclasses
    import json

    frozen = tmp_path / "frozen"  # the same batches, nothing learnt (learning rate 0)
    train(dataclasses.replace(_config(style_file, 12), lr=0.0), frozen,
          content=[str(content_dir)], log=lambda m: None)  # fmt: skip
    rows = json.loads((whole / "log.json").read_text())
    still = json.loads((frozen / "log.json").read_text())
    learnt = sum(r["style"] for r in rows[-4:])
    assert learnt < 0.9 * sum(r["style"] for r in still[-4:]), (learnt, still[-4:])
    part = tmp_path / "part"
    train(_config(style_file, 12), part, content=[str(content_dir)], log=lambda m: None,
          stop_after=6)  # fmt: skip
    train(_config(style_file, 12), part, resume=True, content=[str(content_dir)],
          log=lambda m: None)  # fmt: skip
    a, b = load_model(whole), load_model(part)
    for (k, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(x, y), k
    assert (whole / "gallery_000012.png").is_file()


def test_the_cli_trains_and_applies_a_model(content_dir, style_file, tmp_path, capsys):
    run = tmp_path / "run"
    argv = [
        "stylize",
        "train",
        str(style_file),
        "--name",
        str(run),
        "--content",
        str(content_dir),
        "--steps",
        "3",
        "--size",
        "64",
        "--batch-size",
        "1",
        "-q",
    ]
    assert main(argv) == 0
    photo = save_image(resize(load_sample("chelsea"), (75, 113)), tmp_path / "cat.png")
    out = tmp_path / "cat_fast.png"
    fast = ["stylize", str(photo), "--model", str(run), "-o", str(out), "-q"]
    assert main([*fast, "--precision", "fp32"]) == 0
    got = read_image(out)
    assert got.shape == (1, 3, 75, 113)
    expected = load_model(run)(read_image(photo))
    assert float((got - expected).abs().max()) <= 1 / 255 + 1e-6
    assert main([*fast, "--precision", "bf16"]) == 0  # autocast applied: another picture
    low = read_image(out)
    assert not torch.equal(low, got) and float((low - got).abs().mean()) < 2 / 255
    with pytest.raises(SystemExit) as e:
        main(["stylize", str(photo), str(style_file), "--model", str(run), "-o", str(out)])
    assert e.value.code == 2 and "one or the other" in capsys.readouterr().err
    assert main(argv) == 1  # the run exists
    assert "--resume" in capsys.readouterr().err


def _styled_net():
    torch.manual_seed(0)
    net = TransformNet().eval()
    with torch.no_grad():  # norms with non-trivial scales, as a trained network has
        for m in net.modules():
            if isinstance(m, torch.nn.InstanceNorm2d):
                m.weight.uniform_(0.5, 1.5), m.bias.uniform_(-0.2, 0.2)
    return net


def test_tiles_equal_one_pass_with_the_same_statistics():
    """Tiles with 48 px of real context and the statistics of one pass give that pass (no
    seam); statistics from a shrunk copy are shared by every tile, so the tiled picture equals
    one pass with those statistics, seamless by construction."""
    net = _styled_net()
    photo = resize(load_sample("astronaut"), (300, 400))
    with torch.no_grad():
        whole = net(photo)
    tiled = net.stylize(photo, tile=128, stats_side=1024)
    assert float((tiled - whole).abs().max()) < 1e-4
    shrunk = net.stylize(photo, tile=128, stats_side=160)
    small = torch.nn.functional.interpolate(photo, size=(120, 160), mode="area")
    for m in net._norms():
        m.mode = "record"
    net(small)
    for m in net._norms():
        m.mode = "fixed"
    with torch.no_grad():
        one = net(photo)
    for m in net._norms():
        m.mode, m.stats = None, None
    assert float((shrunk - one).abs().max()) < 1e-4
    assert float((shrunk - whole).abs().mean()) > 1e-4  # the statistics did change
    no_context = torch.cat([torch.cat([net(photo[..., y : y + 128, x : x + 128])
                                       for x in range(0, 400, 128)], -1)
                            for y in range(0, 300, 128)], -2)  # fmt: skip
    assert float((no_context - whole).abs().max()) > 0.05  # what the context prevents


def test_a_4096_picture_in_bounded_memory():
    import subprocess
    import sys

    code = (
        "import resource, torch; from photogen.faststyle.network import TransformNet;"
        "net = TransformNet().eval(); x = torch.rand(1, 3, 4096, 4096);"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss;"
        "y = net.stylize(x);"
        "print(y.shape[-1], (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=600).stdout.split()  # fmt: skip
    assert out[0] == "4096" and float(out[1]) < 2048, out  # MiB beyond the two pictures


def test_a_video_through_a_style_network_with_the_temporal_blend(content_dir, style_file,
                                                                  tmp_path):  # fmt: skip
    """A panning clip through a (briefly trained) network: every frame comes out, and the
    blend lowers the warping error against plain per-frame work."""
    from photogen.core.flow import warping_error
    from photogen.core.samples import pan_clip
    from photogen.core.video import read_frames
    from tests.core.conftest import write_clip

    run = tmp_path / "run"
    train(_config(style_file, 3), run, content=[str(content_dir)], log=lambda m: None)
    small = torch.nn.functional.interpolate(load_sample("astronaut"), size=(256, 256),
                                            mode="area")  # fmt: skip
    frames = pan_clip(small, 12, (96, 128), (2, 1))
    clip = write_clip(tmp_path / "pan.mp4", frames)
    outs = {}
    for flag in ([], ["--no-temporal"]):
        out = tmp_path / f"out{len(flag)}.mp4"
        assert main(["stylize", str(clip), "--model", str(run), "-o", str(out), "-q",
                     *flag]) == 0  # fmt: skip
        outs[bool(flag)] = [f.image for f in read_frames(out)]
    assert len(outs[False]) == len(outs[True]) == 12
    inputs = [f.image for f in read_frames(clip)]
    assert warping_error(outs[False], inputs) < warping_error(outs[True], inputs)


def test_training_under_torchrun_two_cpu_processes(content_dir, style_file, tmp_path):
    """torchrun: two processes draw different batches (their random states differ in the
    checkpoint), the weights stay one (DistributedDataParallel), rank 0 writes once."""
    import os
    import subprocess
    import sys

    from photogen.cli.studio import free_port

    run = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
           "--master-port", str(free_port()), "-m", "photogen.cli.main", "stylize", "train",
           str(style_file), "--name", str(run), "--content", str(content_dir), "--steps", "2",
           "--size", "64", "--batch-size", "1", "--save-every", "2", "--threads", "1",
           "-q"]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, child_failure(proc.stderr)
    ckpt = torch.load(run / "checkpoint.pt", weights_only=True)
    assert ckpt["step"] == 2 and len(ckpt["rng_all"]) == 2
    assert not torch.equal(ckpt["rng_all"][0]["torch"], ckpt["rng_all"][1]["torch"])
    assert load_model(run).config.channels == (16, 32, 64)


def test_a_diverged_run_stops_and_keeps_its_last_good_files(content_dir, style_file, tmp_path,
                                                            monkeypatch):  # fmt: skip
    """A loss that becomes NaN (the paper-size network at a high style weight did at step
    ~255) stops training with one line, before the NaN weights overwrite the checkpoint and
    the model of the last good step."""
    import photogen.faststyle.train as T

    calls = [0]
    real_tv = T.tv_loss

    def tv_then_nan(y):
        calls[0] += 1
        return real_tv(y) * (float("nan") if calls[0] >= 3 else 1.0)

    monkeypatch.setattr(T, "tv_loss", tv_then_nan)
    run = tmp_path / "run"
    config = TrainConfig(style=str(style_file), steps=5, size=64, batch=1, style_size=96,
                         save_every=2, gallery_every=100)  # fmt: skip
    with pytest.raises(FloatingPointError, match="at step 3: training diverged; the files of "
                                                 "step 2 are kept"):  # fmt: skip
        train(config, run, content=[str(content_dir)], log=lambda m: None)
    assert torch.load(run / "checkpoint.pt", weights_only=True)["step"] == 2
    model = load_model(run)
    assert all(torch.isfinite(p).all() for p in model.parameters())
