"""Training, resume, DDP, prior, and the colorize CLI end to end, on tiny generated photos."""

import itertools
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from photogen.cli.main import main
from photogen.cli.studio import free_port
from photogen.colorize.bins import gamut_bins, rebalance_weights, soft_encode
from photogen.colorize.prior import load_prior
from photogen.colorize.train import TrainConfig, colorization_loss, train
from photogen.core.color import rgb_to_lab
from photogen.core.training import LeftoverRunError
from tests.conftest import child_failure


def _photo(seed: int, h: int = 48, w: int = 64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    base = rng.random(3)
    img = np.stack([base[0] + 0.4 * x, base[1] * (1 - y), base[2] + 0.3 * np.sin(8 * x * y)], -1)
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    d = tmp_path_factory.mktemp("photos")
    for i in range(5):
        Image.fromarray(_photo(i)).save(d / f"p{i}.png")
    Image.fromarray(_photo(9)).convert("L").save(d / "grey.png")
    return d


def _cfg(photos, run, **kw):
    base = dict(data=[str(photos)], run_dir=str(run), steps=4, batch_size=2, crop=32,
                cache_side=48, val_fraction=0.2, val_every=2, save_every=2, warmup=2)  # fmt: skip
    return TrainConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def tiny_run(photos, tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "tiny"
    torch.set_num_threads(1)  # as the tests (module fixtures run before the autouse one)
    train(_cfg(photos, run), torch.device("cpu"), log=lambda m: None)
    return run


def test_training_writes_everything_and_resumes_exactly(photos, tiny_run, tmp_path):
    for name in ("checkpoint.pt", "model.safetensors", "prior.safetensors", "log.csv",
                 "loss.png", "config.json", "gallery/index.html"):  # fmt: skip
        assert (tiny_run / name).is_file(), name
    log = (tiny_run / "log.csv").read_text().splitlines()
    assert len(log) == 5 and log[2].split(",")[2] != ""  # 4 steps, val loss at step 2

    # Interrupted after 2 of 4 steps (the checkpoint at step 2 is the last thing written) ...
    run = tmp_path / "interrupted"
    cut = lambda it, **kw: itertools.islice(it, 2)  # noqa: E731
    train(_cfg(photos, run), torch.device("cpu"), progress=cut, log=lambda m: None)
    assert torch.load(run / "checkpoint.pt", weights_only=True)["step"] == 2
    with pytest.raises(LeftoverRunError, match="already holds a run"):
        train(_cfg(photos, run), torch.device("cpu"), log=lambda m: None)
    # ... then resumed: the same weights as the uninterrupted run, bit for bit.
    torch.manual_seed(12345)  # whatever the process did in between must not matter
    train(_cfg(photos, run), torch.device("cpu"), resume=True, log=lambda m: None)
    a = load_file(str(tiny_run / "model.safetensors"))
    b = load_file(str(run / "model.safetensors"))
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    ckpt = torch.load(run / "checkpoint.pt", weights_only=True)
    assert ckpt["step"] == 4 and len(ckpt["log"]) == 4 and "optimizer" in ckpt


def test_loss_prefers_the_truth_and_ignores_grey_crops():
    bins = gamut_bins()
    w = rebalance_weights(torch.ones(313))
    g = torch.Generator().manual_seed(0)
    ab = torch.rand(2, 2, 8, 8, generator=g) * 80 - 40
    target_logits = soft_encode(torch.nn.functional.avg_pool2d(ab, 4), bins).clamp_min(1e-8).log()
    good = colorization_loss(target_logits, ab, w, bins)
    uniform = colorization_loss(torch.zeros(2, 313, 2, 2), ab, w, bins)
    assert good < 0.5 * uniform
    grey = torch.zeros(2, 2, 8, 8)
    assert colorization_loss(torch.randn(2, 313, 2, 2, generator=g), grey, w, bins) == 0


def test_prior_command_and_file(photos, tmp_path):
    out = tmp_path / "prior.safetensors"
    assert main(["colorize", "prior", str(photos), "-o", str(out), "-q"]) == 0
    p = load_prior(out)
    assert p.shape == (313,) and torch.isclose(p.sum(), torch.tensor(1.0, dtype=p.dtype))
    assert (tmp_path / "prior.png").is_file()
    with pytest.raises(ValueError, match="not a photogen"):
        from safetensors.torch import save_file

        save_file({"counts": torch.ones(313)}, str(tmp_path / "x.safetensors"))
        load_prior(tmp_path / "x.safetensors")


def test_colorize_cli_folder_with_a_corrupt_file(photos, tiny_run, tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(_photo(1, 50, 70)).save(src / "a.png")
    Image.fromarray(_photo(2, 33, 41)).convert("L").save(src / "grey.jpg")
    (src / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    out = tmp_path / "out"
    rc = main(["colorize", str(src), "-o", str(out), "--model", str(tiny_run), "-q"])
    assert rc == 1
    err = capsys.readouterr().err
    assert "broken.jpg" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "grey.jpg"]
    res = np.asarray(Image.open(out / "a.png").convert("RGB"), dtype=np.float32) / 255
    orig = np.asarray(Image.open(src / "a.png").convert("RGB"), dtype=np.float32) / 255
    assert res.shape == orig.shape
    l_res = rgb_to_lab(torch.from_numpy(res).permute(2, 0, 1)[None])[:, 0]
    l_orig = rgb_to_lab(torch.from_numpy(orig).permute(2, 0, 1)[None])[:, 0]
    assert (l_res - l_orig).abs().mean() < 1.0  # the photo's own L is kept
    assert Image.open(out / "grey.jpg").size == (41, 33)


def test_eval_cli_rows_and_ceiling(photos, tiny_run, tmp_path):
    out = tmp_path / "eval"
    assert main(["colorize", "eval", str(photos), "--model", str(tiny_run), "--size", "64",
                 "-o", str(out), "-q"]) == 0  # fmt: skip
    result = json.loads((out / "metrics.json").read_text())
    rows = result["rows"]
    assert list(rows) == ["ground truth", "grey", str(tiny_run)]
    assert rows["ground truth"]["auc"] == 100 and rows["ground truth"]["auc_rebalanced"] == 100
    assert rows["grey"]["colourfulness"] == 0
    assert 0 < rows["grey"]["auc"] < 100 and 0 < rows["grey"]["auc_rebalanced"] < 100
    assert result["images"] == 5 and result["grey_skipped"] == 1  # grey.png has no colour
    assert (out / "curves.png").is_file()


def test_ddp_two_cpu_processes(photos, tmp_path):
    run = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
           "--master-port", str(free_port()), "-m", "photogen.cli.main", "colorize", "train",
           str(photos),
           "--name", str(run), "--steps", "2", "--batch-size", "1", "--crop", "32",
           "--save-every", "2", "--val-every", "2", "--threads", "1", "-q"]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, child_failure(proc.stderr)
    ckpt = torch.load(run / "checkpoint.pt", weights_only=True)
    assert ckpt["step"] == 2 and len(ckpt["rng_all"]) == 2
    # each process drew its own crops
    assert not torch.equal(ckpt["rng_all"][0]["torch"], ckpt["rng_all"][1]["torch"])
    assert json.loads((run / "config.json").read_text())["world_size"] == 2


def test_overlapped_folder_run_equals_sequential(tiny_run, photos, tmp_path):
    from photogen.colorize.pipeline import colorize_files, load_model

    model = load_model(tiny_run)
    paths = sorted(photos.glob("*.png"))
    a = [tmp_path / "a" / p.name for p in paths]
    b = [tmp_path / "b" / p.name for p in paths]
    done = []
    assert colorize_files(model, paths, a, size=64, overlap=True, on_done=done.append) == 0
    assert colorize_files(model, paths, b, size=64, overlap=False) == 0
    assert sorted(done) == paths
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b, strict=True))


def test_siggraph17_hints_from_the_cli(tmp_path):
    from photogen.colorize.models import SIGGRAPH17

    net = SIGGRAPH17()
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for t in net.parameters():
            t.copy_(torch.randn(t.shape, generator=g) * 0.05)
    weights = tmp_path / "siggraph17-mine.pth"
    torch.save(net.state_dict(), weights)
    src = tmp_path / "p.png"
    Image.fromarray(_photo(3, 40, 56)).save(src)
    plain, hinted = tmp_path / "plain.png", tmp_path / "hinted.png"
    assert (
        main(
            ["colorize", str(src), "-o", str(plain), "--model", str(weights), "--size", "64", "-q"]
        )
        == 0
    )
    args = ["colorize", str(src), "-o", str(hinted), "--model", str(weights), "--size", "64", "-q"]
    assert main([*args, "--hint", "10,20,60,-40", "--hint", "50,5,-30,50"]) == 0
    assert not np.array_equal(np.asarray(Image.open(plain)), np.asarray(Image.open(hinted)))
    with pytest.raises(SystemExit) as exc:
        main(["colorize", str(src), "-o", str(plain), "--hint", "1,2,3"])
    assert exc.value.code == 2


def test_bundled_lite_model_is_small_checked_and_beats_grey_on_held_out_photos():
    from photogen.colorize.evaluate import evaluate
    from photogen.colorize.pipeline import load_model
    from photogen.core.samples import sample_path
    from photogen.core.weights import REGISTRY, resolve, sha256_file

    path = resolve("colorize-lite")
    assert path.stat().st_size < 20 * 2**20
    assert sha256_file(path) == REGISTRY["colorize-lite"].sha256
    model = load_model("lite")
    assert model.arch == "lite" and model.temperature == 0.38
    # photos held out of its training set (see docs/models/colorize-lite.md)
    paths = [sample_path(n) for n in ("chelsea", "coffee", "astronaut", "motorcycle")]
    rows = evaluate({"lite": model}, paths)["rows"]
    assert rows["lite"]["auc_rebalanced"] > rows["grey"]["auc_rebalanced"] + 2
    assert rows["lite"]["colourfulness"] > 0.5 * rows["ground truth"]["colourfulness"]


def test_center_crops_scale_small_photos_up_to_the_crop():
    from photogen.colorize.data import center_crops

    small = torch.randint(0, 256, (3, 70, 90), dtype=torch.uint8)
    big = torch.randint(0, 256, (3, 300, 200), dtype=torch.uint8)
    assert center_crops([small, big], 176).shape == (2, 3, 176, 176)


def test_colorize_precision_auto_applies_what_it_chose(photos, tiny_run, tmp_path, capsys,
                                                        monkeypatch):  # fmt: skip
    """--precision fp32 and bf16 give different pictures; auto says what it chose in one
    line and its pictures are that precision's, bit for bit: bf16 on a machine with native
    bf16 (the tiny model's first photo is within the tolerance), fp32 on one without."""
    from photogen.core import precision
    from photogen.core.image import read_image

    def run(prec: str, native: bool) -> torch.Tensor:
        monkeypatch.setattr(precision, "native_bf16", lambda device: native)
        out = tmp_path / f"{prec}-{native}.png"
        assert main(["colorize", str(photos / "p1.png"), "-o", str(out), "--model",
                     str(tiny_run), "--size", "64", "--precision", prec]) == 0  # fmt: skip
        return read_image(out)

    fp32, bf16 = run("fp32", True), run("bf16", True)
    assert not torch.equal(fp32, bf16)
    capsys.readouterr()
    assert torch.equal(run("auto", True), bf16)
    assert "precision auto -> bf16: native bf16" in capsys.readouterr().err
    assert torch.equal(run("auto", False), fp32)
    assert "precision auto -> fp32: no native bf16" in capsys.readouterr().err
