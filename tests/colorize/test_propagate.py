"""Colour hints that stay in their region (photogen.colorize.propagate), on synthetic photos
whose regions are known, and through the pipeline on a real one.

Each test was run against a broken variant and failed: hint x and y swapped (the hint lands in
the other region), the hint's colour dropped (the automatic colour kept), the propagation off
(only the clicked disc changes), the smoothstep floor at 0 (the whole photo is tinted), the
strips of the guided upsampling offset by a row.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse.linalg as spla
import torch

from photogen.colorize import propagate as P


def _two_regions(h: int = 96, w: int = 160) -> torch.Tensor:
    """L: a dark region on the left (x < 0.45 w), a bright one on the right, mild texture."""
    g = torch.Generator().manual_seed(0)
    L = torch.full((1, 1, h, w), 70.0)
    L[..., : int(0.45 * w)] = 30.0
    return L + torch.randn(L.shape, generator=g)


def test_one_hint_colours_its_own_region_and_not_the_other():
    L = _two_regions()
    auto = torch.zeros(1, 2, *L.shape[-2:])
    h, w = L.shape[-2:]
    x, y = int(0.2 * w), int(0.75 * h)  # asymmetric: swapped x/y would land on the right
    ab = P.propagate(L, auto, P.ColourHints(points=[(x, y, 60.0, 40.0)]))
    asked = torch.tensor([60.0, 40.0])
    assert float((ab[0, :, y, x] - asked).norm()) < 2
    left = ab[0, :, :, : int(0.4 * w)]
    right = ab[0, :, :, int(0.5 * w) :]
    # the click's region, near it, takes the colour; across the edge nothing moves
    near = ab[0, :, y - 10 : y + 10, x - 10 : x + 10]
    assert float((near.mean((1, 2)) - asked).norm()) < 10
    assert float(right.norm(dim=0).max()) < 3
    assert float(left.norm(dim=0).mean()) > 25


def test_the_colour_fades_with_distance_inside_a_large_region():
    """A uniform photo: the hint's colour is full near it and zero far away (the data term)."""
    L = torch.full((1, 1, 128, 256), 50.0)
    auto = torch.zeros(1, 2, 128, 256)
    ab = P.propagate(L, auto, P.ColourHints(points=[(40, 64, 0.0, 80.0)]))
    chroma = ab.norm(dim=1)[0]
    assert float(chroma[64, 40:50].min()) > 70  # full strength beside the click
    assert float(chroma[:, 200:].max()) < 1  # the far end of the photo keeps its colour


def test_two_hints_each_colour_their_region():
    L = _two_regions()
    auto = torch.full((1, 2, *L.shape[-2:]), 5.0)
    h, w = L.shape[-2:]
    red, blue = (60.0, 45.0), (10.0, -60.0)
    hints = P.ColourHints(points=[(0.1 * w, 0.3 * h, *red), (0.9 * w, 0.6 * h, *blue)])
    ab = P.propagate(L, auto, hints)
    at_red = ab[0, :, int(0.3 * h), int(0.1 * w) + 4]
    at_blue = ab[0, :, int(0.6 * h), int(0.9 * w) - 4]
    assert float((at_red - torch.tensor(red)).norm()) < 8
    assert float((at_blue - torch.tensor(blue)).norm()) < 8


def test_no_hint_returns_the_automatic_colour_exactly():
    L = _two_regions()
    auto = torch.randn(1, 2, *L.shape[-2:])
    assert P.propagate(L, auto, P.ColourHints()) is auto


def test_a_hinted_network_is_used_only_where_the_hints_reach():
    """lite-hints alone tints the whole photo after one click: far away the automatic colour
    must stay, near the click the network's hinted colours are used."""
    L = torch.full((1, 1, 96, 192), 50.0)
    auto = torch.zeros(1, 2, 96, 192)
    hinted = torch.full((1, 2, 96, 192), 30.0)  # a global tint
    ab = P.propagate(L, auto, P.ColourHints(points=[(20, 48, 30.0, 30.0)]), hinted)
    assert float(ab[0, :, :, 150:].abs().max()) < 1
    assert float((ab[0, :, 48, 20:26] - 30).abs().max()) < 2


def test_strokes_are_read_from_a_scribble_picture():
    grey = torch.full((1, 3, 40, 60), 0.5)
    marks = grey.clone()
    marks[:, :, 30:33, 5:20] = torch.tensor([0.9, 0.1, 0.1]).view(1, 3, 1, 1)
    ab, mask = P.scribble_hints(marks)
    assert mask[0, 0, 30:33, 5:20].all() and float(mask.sum()) == 3 * 15
    assert float(ab[0, 0, 31, 10]) > 40  # red: a* > 0
    alpha = torch.zeros(1, 4, 40, 60)
    alpha[:, :3] = 0.5
    alpha[:, 3, 2:4, 50:55] = 1.0  # paint on a transparent layer: grey paint counts too
    _, mask2 = P.scribble_hints(alpha)
    assert float(mask2.sum()) == 10 and mask2[0, 0, 3, 52]


def test_a_stroke_at_another_resolution_lands_where_it_was_drawn():
    L = _two_regions(96, 160)
    auto = torch.zeros(1, 2, 96, 160)
    s_ab, s_mask = torch.zeros(1, 2, 48, 80), torch.zeros(1, 1, 48, 80)
    s_mask[0, 0, 35, 55:70] = 1  # right region, lower half, at half the resolution
    s_ab[0, 1, 35, 55:70] = -50
    ab = P.propagate(L, auto, P.ColourHints(strokes=(s_ab, s_mask)))
    assert float(ab[0, 1, 71, 120]) < -40
    assert float(ab[0, :, :, :60].norm(dim=0).max()) < 3  # the left region is untouched


def test_points_outside_the_photo_are_refused():
    with pytest.raises(ValueError, match="outside"):
        P.rasterize(P.ColourHints(points=[(200, 5, 1, 1)]), 10, 10, 50, 100)


def test_the_multigrid_solve_equals_a_direct_one():
    L = _two_regions(48, 64)[0, 0].double().numpy() / 100
    lap = P.affinity_laplacian(L)
    assert abs(lap.sum(1)).max() < 1e-9 and abs(lap - lap.T).max() < 1e-12  # a Laplacian
    import scipy.sparse as sp

    p = np.zeros(L.size)
    p[[100, 2000]] = 1
    A = (lap + sp.diags(1e-3 + 1e3 * p)).tocsr()
    B = np.stack([1e3 * p, 1e3 * p * 40], 1)
    ref = spla.spsolve(A.tocsc(), B)
    assert np.abs(P._solve(A, B, 1e-10) - ref).max() < 1e-5


def test_guided_upsampling_in_strips_equals_one_pass(monkeypatch):
    g = torch.Generator().manual_seed(1)
    low = torch.rand(1, 3, 12, 20, generator=g)
    guide_low = torch.rand(1, 1, 12, 20, generator=g)
    guide_full = torch.nn.functional.interpolate(guide_low, size=(50, 83), mode="bilinear")
    one = P.guided_upsample(low, guide_low, guide_full)
    monkeypatch.setattr(P, "STRIP_ROWS", 7)
    strips = P.guided_upsample(low, guide_low, guide_full)
    assert torch.allclose(one, strips, atol=1e-6)
    # on its own grid and a flat guide it returns the (box-smoothed) values' mean level
    flat = P.guided_upsample(torch.full((1, 1, 8, 8), 3.0), torch.ones(1, 1, 8, 8),
                             torch.ones(1, 1, 16, 16))  # fmt: skip
    assert torch.allclose(flat, torch.full_like(flat, 3.0), atol=1e-4)


def test_the_pipeline_honours_a_click_with_the_bundled_automatic_model():
    """lite alone ignores hints; through the propagation the clicked pixel gets the colour
    and the far side of the photo does not move."""
    from photogen.colorize.pipeline import guided_ab, load_model, predict_ab
    from photogen.core.color import lightness
    from photogen.core.samples import load_sample

    rgb = torch.nn.functional.interpolate(load_sample("chelsea"), size=(150, 225), mode="area")
    model = load_model("lite")
    L = lightness(rgb)
    auto = predict_ab(model, L, 256)
    x, y = 40, 110
    ab = guided_ab(model, L, P.ColourHints(points=[(x, y, -40.0, -40.0)]), 256, auto_ab=auto)
    assert float((ab[0, :, y, x] - torch.tensor([-40.0, -40.0])).norm()) < 20
    assert float((ab - auto)[0, :, :60, 150:].norm(dim=0).mean()) < 3


def test_hints_are_checked_against_the_photo_they_are_for():
    """One check for the CLI and the studio: points inside, strokes of the photo's aspect."""
    mask = torch.zeros(1, 1, 50, 100)
    P.ColourHints(points=[(99, 49, 1, 1)], strokes=(torch.zeros(1, 2, 50, 100), mask)).check(
        100, 200
    )
    with pytest.raises(ValueError, match="outside the 200x100 photo"):
        P.ColourHints(points=[(10, 100, 1, 1)]).check(100, 200)
    with pytest.raises(ValueError, match="aspect ratios differ"):
        P.ColourHints(strokes=(torch.zeros(1, 2, 50, 50), mask[..., :50])).check(100, 200)


def test_an_opaque_alpha_channel_means_marks_over_the_photo():
    """A 4-channel picture whose alpha is 1 everywhere (an opaque PNG read with its alpha) is
    read by chroma, not as 'everything painted'."""
    grey = torch.full((1, 4, 20, 30), 0.5)
    grey[:, 3] = 1.0
    grey[:, :3, 5:7, 10:20] = torch.tensor([0.1, 0.2, 0.9]).view(1, 3, 1, 1)
    _, mask = P.scribble_hints(grey)
    assert float(mask.sum()) == 20
