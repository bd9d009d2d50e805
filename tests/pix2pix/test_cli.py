"""``photogen pix2pix`` end to end on four tiny pairs, one of them corrupt."""

from __future__ import annotations

import json

import torch

from photogen.cli.main import main
from photogen.core.image import read_image, save_image


def test_make_pairs_train_test_apply_export(tmp_path, bad_files, capsys):
    photos = tmp_path / "photos"
    gen = torch.Generator().manual_seed(0)
    for i in range(4):
        img = torch.rand(1, 3, 12, 16, generator=gen)
        img = torch.nn.functional.interpolate(img, size=(150, 200), mode="bicubic").clamp(0, 1)
        save_image(img, photos / f"p{i}.png")
    data = tmp_path / "data"
    assert (
        main(["pix2pix", "make-pairs", "gray", str(photos), str(data), "--size", "128", "-q"]) == 0
    )
    (data / "zz_corrupt.png").write_bytes(bad_files["truncated.png"].read_bytes())

    run = tmp_path / "run"
    train = ["pix2pix", "train", str(data), "--name", str(run), "--netG", "unet_128",
             "--ngf", "8", "--ndf", "8", "--load-size", "136", "--crop-size", "128",
             "--n-epochs", "1", "--n-epochs-decay", "1", "-q"]  # fmt: skip
    assert main(train) == 0
    err = capsys.readouterr().err
    assert err.count("zz_corrupt.png") == 1 and "skipped" in err  # reported once, training went on
    assert main(train) == 1  # the run exists: refuses without --resume
    assert "--resume" in capsys.readouterr().err
    ckpt = torch.load(run / "checkpoint.pt", weights_only=True)
    assert ckpt["step"] == 10 and ckpt["epoch"] == 2

    out = tmp_path / "test"
    code = main(["pix2pix", "test", str(data), "--name", str(run), "-o", str(out), "-q"])
    assert code == 1  # the corrupt pair was skipped and reported
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["images"] == 4 and metrics["skipped"] == 1
    assert 0 < metrics["L1"] < 1 and metrics["PSNR"] > 5 and "FID[lite0]" in metrics
    assert (out / "index.html").read_text().count("<img") == 12

    res = tmp_path / "applied"
    assert main(["pix2pix", "apply", str(photos), str(bad_files["text.png"]), "--model",
                 str(run), "-o", str(res), "-q"]) == 1  # fmt: skip
    assert "text.png" in capsys.readouterr().err
    assert read_image(res / "p0.png").shape == (1, 3, 150, 200)  # back to the input's size
    a = read_image(res / "p1.png")
    assert main(["pix2pix", "apply", str(photos / "p1.png"), "--model", str(run), "-o",
                 str(tmp_path / "again.png"), "-q"]) == 0  # fmt: skip
    assert torch.equal(read_image(tmp_path / "again.png"), a)  # same seed, same image
    for prec in ("fp32", "bf16"):
        assert main(["pix2pix", "apply", str(photos / "p1.png"), "--model", str(run), "-o",
                     str(tmp_path / f"{prec}.png"), "--precision", prec, "-q"]) == 0  # fmt: skip
    fp32, bf16 = (read_image(tmp_path / f"{p}.png") for p in ("fp32", "bf16"))
    assert not torch.equal(fp32, bf16) and float((fp32 - bf16).abs().mean()) < 4 / 255

    onnx = tmp_path / "g.onnx"
    assert main(["pix2pix", "export", str(onnx), "--model", str(run), "--size", "128",
                 "--check"]) == 0  # fmt: skip
    assert "onnxruntime matches" in capsys.readouterr().err and onnx.stat().st_size > 1e5


def test_resume_uses_the_runs_own_settings(tmp_path, capsys):
    """`--resume` without repeating --ngf/--netG/...: the run's config.json is used (before,
    the defaults built a 64-filter network and loading the checkpoint failed)."""
    from photogen.pix2pix.facades import make_facades

    data = make_facades(tmp_path / "facades", count=3, size=128)
    run = tmp_path / "run"
    first = ["pix2pix", "train", str(data), "--name", str(run), "--netG", "unet_128", "--ngf",
             "4", "--ndf", "4", "--load-size", "136", "--crop-size", "128", "--max-steps", "2",
             "-q"]  # fmt: skip
    assert main(first) == 0
    again = ["pix2pix", "train", str(data), "--name", str(run), "--resume", "--max-steps", "4"]
    assert main(again) == 0
    assert "resuming with the run's own" in capsys.readouterr().err
    ckpt = torch.load(run / "checkpoint.pt", weights_only=True)
    assert ckpt["step"] == 4 and ckpt["G"]["model.model.0.weight"].shape[0] == 4
