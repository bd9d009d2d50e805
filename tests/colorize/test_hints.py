"""User-guided colorization: simulated hints (Zhang et al. 2017), the lite hint branch, and a
hint run trained, loaded and used from the command line."""

from __future__ import annotations

import math

import pytest
import torch

from photogen.colorize.hints import error_against_hints, simulate_hints
from photogen.colorize.lite import LiteColorizer
from tests.colorize.test_train import _cfg, photos  # noqa: F401 - the photos fixture


def test_simulated_hints_reveal_patch_means_with_a_geometric_count():
    g = torch.Generator().manual_seed(0)
    ab = torch.randn(400, 2, 32, 32, generator=g) * 30
    hints, mask = simulate_hints(ab, torch.Generator().manual_seed(1))
    assert hints.shape == ab.shape and mask.shape == (400, 1, 32, 32)
    assert torch.all(hints[mask.expand_as(hints) == 0] == 0)
    none = float((mask.flatten(1).sum(1) == 0).float().mean())
    assert abs(none - 1 / 8) < 0.05  # P(no point) = p = 1/8 under the geometric law
    one, m1 = simulate_hints(ab[:1], torch.Generator().manual_seed(2), points=1, max_patch=9)
    ys, xs = torch.nonzero(m1[0, 0], as_tuple=True)
    patch = ab[0, :, ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    side = int(ys.max() - ys.min() + 1)
    assert side in (1, 3, 5, 7, 9) and int(m1.sum()) == side * side  # one odd square
    torch.testing.assert_close(one[0, :, ys[0], xs[0]], patch.mean(dim=(1, 2)))
    with pytest.raises(ValueError, match="ab must be"):
        simulate_hints(torch.zeros(1, 3, 4, 4))


def test_hint_branch_starts_as_the_automatic_model_and_then_listens():
    from photogen.colorize.pipeline import load_model

    base = load_model("lite").float()
    model = LiteColorizer(hints=True)
    model.load_state_dict(base.state_dict(), strict=False)
    model.eval()
    l_ch = torch.rand(1, 1, 70, 90) * 100
    ab = torch.zeros(1, 2, 70, 90)
    mask = torch.zeros(1, 1, 70, 90)
    ab[:, 0, 30:35, 40:45], mask[..., 30:35, 40:45] = 60.0, 1.0
    with torch.no_grad():
        torch.testing.assert_close(
            model.logits(l_ch, ab, mask), base.logits(l_ch), atol=1e-4, rtol=0
        )
        for conv in model.hint_out.values():
            conv.weight.normal_(0, 0.1)
        assert (model.logits(l_ch, ab, mask) - base.logits(l_ch)).abs().max() > 1e-3
    with pytest.raises(ValueError, match="takes no hints"):
        base.logits(l_ch, ab, mask)


def test_hint_run_trains_loads_and_takes_hints_from_the_cli(photos, tmp_path):  # noqa: F811
    from photogen.cli.main import main
    from photogen.colorize.pipeline import load_model
    from photogen.colorize.train import train
    from photogen.core.image import read_image, save_image

    run = tmp_path / "hints"
    train(_cfg(photos, run, model="lite-hints", init="lite"), torch.device("cpu"))
    model = load_model(run)
    assert model.arch == "lite-hints" and model.hints
    curve = error_against_hints(model, [read_image(photos / "p0.png")], counts=(0, 3), size=64)
    assert set(curve) == {0, 3} and all(math.isfinite(v["psnr"]) for v in curve.values())
    grey = read_image(photos / "p1.png").mean(1, keepdim=True).expand(-1, 3, -1, -1)
    save_image(grey, tmp_path / "grey.png")
    out = tmp_path / "out.png"
    assert main(["colorize", str(tmp_path / "grey.png"), "-o", str(out), "--model", str(run),
                 "--hint", "10,10,60,40", "-q"]) == 0  # fmt: skip
    assert out.is_file()


def test_recolor_turns_the_hue_of_a_fraction_and_keeps_the_rest():
    from photogen.colorize.hints import recolor

    g = torch.Generator().manual_seed(0)
    ab = torch.randn(64, 2, 8, 8, generator=g) * 30
    out, turned = recolor(ab, 0.5, torch.Generator().manual_seed(1))
    assert 16 < int(turned.sum()) < 48
    assert torch.equal(out[~turned], ab[~turned].clamp(-110, 110))
    # a rotation of the ab plane scaled by 0.7-1.4: chroma ratios constant within an image
    ratio = out[turned].norm(dim=1) / ab[turned].norm(dim=1).clamp_min(1e-6)
    flat = ratio.flatten(1)
    inside = (out[turned].abs() < 109.9).all(1).flatten(1)
    for r, ok in zip(flat, inside, strict=True):
        assert float(r[ok].min()) > 0.69 and float(r[ok].max()) < 1.41
        assert float(r[ok].max() - r[ok].min()) < 1e-3
    assert not torch.allclose(out[turned], ab[turned])


def test_training_hints_follow_the_recoloured_photo():
    from photogen.colorize.train import _training_hints

    torch.manual_seed(3)
    ab = torch.randn(16, 2, 24, 24) * 20
    new_ab, hints_ab, mask = _training_hints(ab, 1.0)
    for i in range(16):
        m = mask[i, 0] > 0
        if m.any():  # a hint reveals the colour the loss will ask for
            assert not torch.allclose(new_ab[i], ab[i])
            patch = hints_ab[i][:, m]
            assert patch.abs().sum() > 0
        else:  # no hint: the true colours stay (they could not be known)
            assert torch.equal(new_ab[i], ab[i])


def test_regional_recolor_turns_only_a_band_of_lightness():
    from photogen.colorize.hints import recolor

    ab = torch.full((4, 2, 8, 8), 30.0)
    light = torch.linspace(0, 100, 8).view(1, 1, 1, 8).expand(4, 1, 8, 8)
    out, turned = recolor(ab, 1.0, torch.Generator().manual_seed(0), light, regional=1.0)
    changed = (out - ab).abs().sum(1) > 1.0  # (B, H, W)
    for i in range(4):
        cols = changed[i].any(0)
        assert cols.any() and not cols.all()  # some lightness columns turned, not all
        assert torch.equal(changed[i], changed[i][:1].expand(8, -1))  # by lightness alone
