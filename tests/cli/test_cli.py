"""End-to-end runs of the photogen command on tiny images (each well under 30 s)."""

import shutil
import subprocess
import sys

import pytest
import torch

from photogen.cli.main import main
from photogen.core.image import read_image


def test_texture_end_to_end(tiny_texture, tmp_path):
    out = tmp_path / "tex.png"
    rc = main(
        [
            "texture",
            str(tiny_texture),
            "-o",
            str(out),
            "--size",
            "32",
            "--steps",
            "8",
            "--levels",
            "1",
            "--save-every",
            "4",
            "-q",
            "--seed",
            "5",
        ]
    )
    assert rc == 0
    img = read_image(out)
    assert img.shape == (1, 3, 32, 32) and img.std() > 0.05
    assert (tmp_path / "stripes_00004.png").is_file()  # --save-every snapshots
    again = tmp_path / "again.png"
    main(
        [
            "texture",
            str(tiny_texture),
            "-o",
            str(again),
            "--size",
            "32",
            "--steps",
            "8",
            "--levels",
            "1",
            "-q",
            "--seed",
            "5",
        ]
    )
    assert torch.equal(read_image(again), img)  # same seed, same device -> same image


def test_stylize_end_to_end(tiny_texture, tmp_path):
    """Two blended styles; --preserve-colors keeps the content's chroma (Lab a*b*), which a
    plain run with the same green style does not."""
    from photogen.core.color import rgb_to_lab
    from photogen.core.image import save_image

    content = read_image(tiny_texture)
    green = content * torch.tensor([0.2, 1.0, 0.3]).view(1, 3, 1, 1)
    save_image(green, tmp_path / "green.png")
    chroma_gap = {}
    for flag in ("--preserve-colors", None):
        out = tmp_path / f"styled{flag or ''}.png"
        argv = ["stylize", str(tiny_texture), str(tmp_path / "green.png"), str(tiny_texture),
                "-o", str(out), "--max-size", "32", "--steps", "6", "--levels", "1",
                "--style-weights", "1,2", "-q"]  # fmt: skip
        assert main(argv + ([flag] if flag else [])) == 0
        result = read_image(out)
        assert result.shape == (1, 3, 32, 32)
        ab = rgb_to_lab(result)[:, 1:] - rgb_to_lab(content)[:, 1:]
        chroma_gap[flag] = float(ab.abs().mean())
    # measured: 0.33 with --preserve-colors (8-bit rounding, gamut clipping), 1.33 without
    assert chroma_gap["--preserve-colors"] < 0.8, chroma_gap
    assert chroma_gap[None] > 3 * chroma_gap["--preserve-colors"], chroma_gap


def test_corrupt_file_in_batch_is_reported_and_rest_processed(
    tiny_texture, bad_files, tmp_path, capsys
):
    folder = tmp_path / "batch"
    folder.mkdir()
    shutil.copy(tiny_texture, folder / "a.png")
    shutil.copy(bad_files["truncated.png"], folder / "b.png")
    shutil.copy(tiny_texture, folder / "c.png")
    out = tmp_path / "outs"
    rc = main(
        [
            "texture",
            str(folder),
            "-o",
            str(out),
            "--network",
            "random_multiscale",
            "--size",
            "32",
            "--steps",
            "3",
            "--levels",
            "1",
            "-q",
        ]
    )
    assert rc == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "b.png" in err[0] and "truncated" in err[0]
    assert sorted(p.name for p in out.iterdir()) == ["a_texture.png", "c_texture.png"]


def test_usage_errors_exit_2(tiny_texture, tmp_path):
    with pytest.raises(SystemExit) as e:
        main(["texture", str(tiny_texture), "-o", str(tmp_path / "x.png"), "--size", "3x"])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main(
            [
                "stylize",
                str(tiny_texture),
                str(tiny_texture),
                "-o",
                str(tmp_path / "x.png"),
                "--style-weights",
                "1,2",
            ]
        )
    assert e.value.code == 2


def test_bad_style_image_is_one_line(tiny_texture, bad_files, tmp_path, capsys):
    rc = main(
        [
            "stylize",
            str(tiny_texture),
            str(bad_files["text.png"]),
            "-o",
            str(tmp_path / "o.png"),
            "-q",
        ]
    )
    assert rc == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not an image" in err[0]


def test_console_script_help():
    r = subprocess.run(
        [sys.executable, "-m", "photogen.cli.main", "--help"], capture_output=True, text=True
    )
    assert r.returncode == 0
    for cmd in ("texture", "stylize", "colorize", "pix2pix", "learn", "demo", "weights"):
        assert cmd in r.stdout


def test_closed_output_pipe_is_quiet():
    p = subprocess.Popen(
        [sys.executable, "-m", "photogen.cli.main", "weights", "list"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    p.stdout.close()  # like `| head` exiting before photogen writes
    err = p.stderr.read().decode()
    assert p.wait() in (0, 141) and "Traceback" not in err and "BrokenPipe" not in err


def test_batch_needs_an_output_folder(tiny_texture, tmp_path):
    with pytest.raises(SystemExit) as e:
        main(["texture", str(tiny_texture), str(tiny_texture), "-o", str(tmp_path / "one.png")])
    assert e.value.code == 2


def test_weights_list_and_offline_fetch(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PHOTOGEN_HOME", str(tmp_path))
    assert main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    assert "efficientnet_lite0" in out and "vgg19" in out and str(tmp_path) in out
    assert main(["samples"]) == 0
    assert "chelsea" in capsys.readouterr().out


def test_demo_fast_shows_every_method(tmp_path):
    assert main(["demo", "--fast", "--out", str(tmp_path), "-q"]) == 0
    page = (tmp_path / "index.html").read_text()
    from photogen.faststyle.models import BUNDLED

    titles = ("Texture synthesis", "Classical texture", "Style transfer", "colorization",
              "pix2pix", "PixelCNN", "Foundations", "Data-driven matching", "DeepDream",
              *(["fast style networks"] if BUNDLED else []))  # fmt: skip
    for title in titles:
        assert title in page, title
    assert (tmp_path / "pix2pix" / "run_facades" / "test" / "metrics.json").is_file()


def test_sixteen_bit_output_from_the_cli(tiny_texture, tmp_path, capsys):
    """--bit-depth 16 writes a 16-bit PNG with values between the 8-bit levels; a format with
    no 16-bit form is refused before any work."""
    from photogen.core.image import read_image_info

    out = tmp_path / "t16.png"
    argv = ["texture", str(tiny_texture), "--network", "random_multiscale", "--size", "32",
            "--steps", "3", "--levels", "1", "--no-histogram-match", "--bit-depth", "16",
            "-q"]  # fmt: skip
    assert main([*argv, "-o", str(out)]) == 0
    image, info = read_image_info(out)
    assert info.bit_depth == 16
    levels = (image * 65535).round() / 257  # integer where the value is an 8-bit level
    assert ((levels - levels.round()).abs() > 1e-3).float().mean() > 0.5
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "-o", str(tmp_path / "t16.jpg")])
    assert exit_info.value.code == 2
    assert "--bit-depth 16 needs a .png or .tif" in capsys.readouterr().err
    assert not (tmp_path / "t16.jpg").exists()
