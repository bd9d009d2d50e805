"""Every PNG the CLI writes carries its settings; ``photogen rerun`` makes it again bit for bit
(fails with the chunk not written, the output not redirected, or the comparison skipped)."""

from __future__ import annotations

import pytest
import torch

from photogen.cli.main import main
from photogen.core.image import read_image, save_image
from photogen.core.provenance import read_settings


def test_a_result_carries_its_settings_and_reruns_bit_for_bit(tmp_path, monkeypatch, capsys):
    from photogen.core.samples import load_sample

    monkeypatch.setenv("PHOTOGEN_HOME", str(tmp_path / "home"))
    photo = tmp_path / "p.png"
    save_image(torch.nn.functional.interpolate(load_sample("chelsea"), size=(64, 96)), photo)
    out = tmp_path / "out.png"
    argv = ["colorize", str(photo), "-o", str(out), "--hint", "20,40,30,-30", "--seed", "3"]
    assert main(argv) == 0
    settings = read_settings(out)
    assert settings["argv"] == argv and settings["photogen"] and settings["torch"]
    assert read_settings(photo) is None  # set only while a command runs
    capsys.readouterr()
    assert main(["rerun", str(out), "-o", str(tmp_path / "again.png")]) == 0
    assert "bit for bit" in capsys.readouterr().err
    assert torch.equal(read_image(out), read_image(tmp_path / "again.png"))
    # a changed pixel (or another device) is reported, with exit code 1
    changed = read_image(out)
    changed[..., 5, 5] = 1 - changed[..., 5, 5]
    save_image(changed, tmp_path / "changed.png", settings=settings)
    assert main(["rerun", str(tmp_path / "changed.png"), "-o", str(tmp_path / "c2.png")]) == 1
    assert "largest pixel difference" in capsys.readouterr().err


def test_a_png_without_settings_is_refused(tmp_path):
    save_image(torch.rand(1, 3, 8, 8), tmp_path / "plain.png", settings=None)
    with pytest.raises(SystemExit) as stop:
        main(["rerun", str(tmp_path / "plain.png")])
    assert stop.value.code == 2
