"""``--model auto``: the best colorizer installed (siggraph17, then eccv16, then the bundled
lite), named in one line; offline with nothing cached it is lite with the hint to fetch one.
Shown to fail with the order reversed and with the cache ignored."""

from __future__ import annotations

import pytest
import torch

from photogen.core import weights as W


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PHOTOGEN_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _cache(name: str, net: torch.nn.Module) -> None:
    """Put weights in the cache as a finished download leaves them (file + pinned digest)."""
    import photogen.colorize.models  # noqa: F401

    entry = W.REGISTRY[name]
    path = W.cache_path(entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), path)
    path.with_name(path.name + ".sha256").write_text(W.sha256_file(path) + "\n")


def test_auto_prefers_the_official_models_in_the_cache(home):
    from photogen.colorize.models import ECCV16, SIGGRAPH17
    from photogen.colorize.pipeline import choose_auto, load_model

    name, line = choose_auto()
    assert name == "lite" and "photogen weights fetch siggraph17" in line
    _cache("eccv16", ECCV16())
    assert choose_auto()[0] == "eccv16"
    assert load_model("auto").arch == "eccv16"
    _cache("siggraph17", SIGGRAPH17())
    name, line = choose_auto()
    assert name == "siggraph17" and "fetch" not in line
    assert load_model("auto").name == "siggraph17"


def test_the_cli_names_its_choice_on_stderr(home, tmp_path, capsys):
    from photogen.cli.main import main
    from photogen.core.image import save_image
    from photogen.core.samples import load_sample

    photo = tmp_path / "p.png"
    save_image(torch.nn.functional.interpolate(load_sample("chelsea"), size=(64, 96)), photo)
    assert main(["colorize", str(photo), "-o", str(tmp_path / "out.png")]) == 0
    err = capsys.readouterr().err
    assert "colorizer: lite (bundled)" in err and "weights fetch siggraph17" in err
    assert main(["colorize", str(photo), "-o", str(tmp_path / "q.png"), "--quiet"]) == 0
    assert "colorizer" not in capsys.readouterr().err


def test_hints_reach_the_photo_through_the_cli(home, tmp_path):
    """--hint X,Y,A,B at an asymmetric spot and --hints SCRIBBLES.png with any model (lite has
    no hint input): the colour arrives where asked, the far side stays."""
    from photogen.cli.main import main
    from photogen.core.color import lab_to_rgb, rgb_to_lab
    from photogen.core.image import read_image, save_image
    from photogen.core.samples import load_sample

    photo = tmp_path / "p.png"
    rgb = torch.nn.functional.interpolate(load_sample("chelsea"), size=(120, 180), mode="area")
    save_image(rgb, photo)
    assert main(["colorize", str(photo), "-o", str(tmp_path / "auto.png"), "-q"]) == 0
    assert main(["colorize", str(photo), "-o", str(tmp_path / "hint.png"), "-q",
                 "--model", "lite", "--hint", "30,90,-40,-40"]) == 0  # fmt: skip
    auto = rgb_to_lab(read_image(tmp_path / "auto.png"))
    hinted = rgb_to_lab(read_image(tmp_path / "hint.png"))
    asked = torch.tensor([-40.0, -40.0]).view(1, 2, 1, 1)
    want = rgb_to_lab(lab_to_rgb(torch.cat([hinted[:, :1, 90:91, 30:31], asked], 1)))
    assert float((hinted[0, 1:, 90, 30] - want[0, 1:, 0, 0]).norm()) < 20
    assert float((hinted - auto)[0, 1:, :40, 120:].norm(dim=0).mean()) < 3
    marks = torch.full((1, 3, 60, 90), 0.5)  # half size, a green mark at the top right
    marks[:, :, 8:10, 60:80] = torch.tensor([0.1, 0.7, 0.1]).view(1, 3, 1, 1)
    save_image(marks, tmp_path / "scribbles.png")
    assert main(["colorize", str(photo), "-o", str(tmp_path / "s.png"), "-q", "--model", "lite",
                 "--hints", str(tmp_path / "scribbles.png")]) == 0  # fmt: skip
    s = rgb_to_lab(read_image(tmp_path / "s.png"))
    assert float(s[0, 1, 18, 140]) < -15  # green: a* < 0 where the mark was
    assert float((s - auto)[0, 1:, 80:, :60].norm(dim=0).mean()) < 3  # bottom left untouched
    save_image(torch.full((1, 3, 60, 90), 0.5), tmp_path / "blank.png")
    with pytest.raises(SystemExit) as stop:  # a usage error: exit code 2, one line
        main(["colorize", str(photo), "-o", str(tmp_path / "b.png"), "-q",
              "--hints", str(tmp_path / "blank.png")])  # fmt: skip
    assert stop.value.code == 2
