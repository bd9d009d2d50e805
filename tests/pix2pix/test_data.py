"""pix2pix data, pair builders, metrics and ONNX export."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from photogen.core.color import lightness_image
from photogen.core.image import read_image, save_image
from photogen.pix2pix import networks as N
from photogen.pix2pix.data import AlignedDataset, epoch_order, find_pairs, read_pair
from photogen.pix2pix.export import export_onnx, onnx_predict
from photogen.pix2pix.facades import PALETTE, facade, make_facades
from photogen.pix2pix.infer import prepare
from photogen.pix2pix.metrics import frechet_distance, l1, psnr, ssim
from photogen.pix2pix.pairs import combine, edge_map, make_pairs, square


def _ab(tmp_path, name="x.png", w=40, h=30):
    a = torch.zeros(1, 3, h, w)
    b = torch.ones(1, 3, h, w)
    b[:, 0] = 0.25
    save_image(torch.cat([a, b], -1), tmp_path / name)
    return tmp_path / name


def test_side_by_side_split_and_direction(tmp_path):
    path = _ab(tmp_path)
    (pair,) = find_pairs(tmp_path)
    a, b = read_pair(pair)
    assert a.shape == b.shape == (3, 30, 40)
    assert a.max() == 0 and b[0].mean() == pytest.approx(0.25, abs=1e-2)
    b2, a2 = read_pair(pair, "BtoA")
    assert torch.equal(a2, a) and torch.equal(b2, b)
    assert path.exists()


def test_a_and_b_folders_with_16_bit_files(tmp_path):
    (tmp_path / "A").mkdir()
    (tmp_path / "B").mkdir()
    arr = (np.linspace(0, 65535, 20 * 20).reshape(20, 20)).astype(np.uint16)
    Image.fromarray(arr).save(tmp_path / "A" / "p1.png")
    save_image(torch.rand(1, 3, 20, 20), tmp_path / "B" / "p1.jpg")
    save_image(torch.rand(1, 3, 20, 20), tmp_path / "B" / "lonely.png")
    (pair,) = find_pairs(tmp_path)
    a, b = read_pair(pair)
    assert a.shape == (3, 20, 20) and a.max() == 1.0 and a.min() == 0.0
    assert len(torch.unique(a)) > 256  # 16-bit precision kept


def test_jitter_is_seeded_per_sample_and_identical_for_a_and_b(tmp_path):
    for i in range(3):
        save_image(torch.rand(1, 3, 40, 80), tmp_path / f"{i}.png")
    pairs = find_pairs(tmp_path)
    ds = AlignedDataset(pairs, load_size=48, crop_size=32, seed=5)
    x, y = ds[1], ds[1]
    assert x["A"].shape == (3, 32, 32) and torch.equal(x["A"], y["A"])
    ds.epoch = 1
    assert not torch.equal(ds[1]["A"], x["A"])
    assert ds[1]["A"].min() >= -1 and ds[1]["A"].max() <= 1
    assert sorted(epoch_order(10, 0, 3)) == list(range(10))
    halves = epoch_order(10, 0, 3, 0, 2) + epoch_order(10, 0, 3, 1, 2)
    assert sorted(halves) == list(range(10))


def test_identical_crop_for_input_and_target(tmp_path):
    img = torch.rand(1, 3, 50, 50)
    save_image(torch.cat([img, img], -1), tmp_path / "same.png")
    ds = AlignedDataset(find_pairs(tmp_path), load_size=50, crop_size=32)
    for epoch in range(4):
        ds.epoch = epoch
        item = ds[0]
        assert torch.equal(item["A"], item["B"])


def test_corrupt_pair_is_reported_and_skipped(tmp_path, bad_files):
    _ab(tmp_path, "good.png")
    (tmp_path / "bad.png").write_bytes(bad_files["truncated.png"].read_bytes())
    errors = []
    ds = AlignedDataset(find_pairs(tmp_path), load_size=32, crop_size=32, on_error=errors.append)
    items = [ds[i] for i in range(len(ds))]
    assert [it["index"] for it in items] == [1, 1]  # bad.png (0) replaced by good.png (1)
    assert len(errors) == 1 and "bad.png" in errors[0] and "skipped" in errors[0]


def test_edge_builder_gives_thin_black_lines_on_white():
    img = torch.full((1, 3, 64, 64), 0.2)
    img[..., 16:48, 16:48] = 0.9  # a bright square
    img[..., 5, 5] = 1.0  # an isolated speck: cleaned up
    edges = edge_map(img)
    assert set(torch.unique(edges).tolist()) <= {0.0, 1.0}
    lines = edges[0, 0] == 0
    assert lines[14:18, 20:44].any() and lines[46:50, 20:44].any()  # the square's borders
    assert not lines[28:36, 28:36].any() and not lines[:10, :10].any()
    assert 0.02 < lines.float().mean() < 0.2


def test_pair_builders_and_combine(tmp_path, bad_files):
    photos = tmp_path / "photos"
    save_image(torch.rand(1, 3, 60, 90), photos / "wide.png")
    (photos / "broken.jpg").write_bytes(bad_files["truncated.jpg"].read_bytes())
    errors = []
    written, failed = make_pairs("gray", photos, tmp_path / "g", size=32, on_error=errors.append)
    assert (written, failed) == (1, 1) and "broken.jpg" in errors[0]
    pair = read_image(tmp_path / "g" / "wide.png")
    assert pair.shape == (1, 3, 32, 64)
    b = pair[..., 32:]
    assert torch.allclose(pair[..., :32], lightness_image(b), atol=0.01)
    assert torch.allclose(b, square(read_image(photos / "wide.png"), 32), atol=0.01)
    make_pairs("blur", photos, tmp_path / "bl", size=32, sigma=2.0)
    blurred = read_image(tmp_path / "bl" / "wide.png")
    assert blurred[..., :32].diff(dim=-1).abs().mean() < 0.5 * b.diff(dim=-1).abs().mean()
    save_image(torch.zeros(1, 3, 8, 8), tmp_path / "A" / "k.png")
    save_image(torch.ones(1, 3, 16, 16), tmp_path / "B" / "k.png")
    assert combine(tmp_path / "A", tmp_path / "B", tmp_path / "AB") == (1, 0)
    assert read_image(tmp_path / "AB" / "k.png").shape == (1, 3, 8, 16)


def test_synthetic_facades_are_labelled_with_the_palette(tmp_path):
    label, photo = facade(64, seed=3)
    colours = {tuple(round(v, 2) for v in c) for c in PALETTE.values()}
    found = {tuple(round(v, 2) for v in px) for px in label[0].reshape(3, -1).T.tolist()}
    assert found <= colours and len(found) >= 4
    assert photo.std() > 0.05 and not torch.equal(facade(64, seed=4)[1], photo)
    make_facades(tmp_path, count=2, size=32, test_count=1)
    assert len(find_pairs(tmp_path, "train")) == 2 and len(find_pairs(tmp_path, "test")) == 1


def test_metrics():
    x = torch.rand(1, 3, 32, 32)
    assert l1(x, x) == 0 and psnr(x, x) == 100.0 and ssim(x, x) == pytest.approx(1.0, abs=1e-4)
    assert psnr(torch.zeros(1, 3, 4, 4), torch.full((1, 3, 4, 4), 0.1)) == pytest.approx(20.0)
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(400, 4, generator=g), torch.randn(400, 4, generator=g)
    assert frechet_distance(a, b) < 0.2
    assert frechet_distance(a, a + 2.0) == pytest.approx(16.0, abs=1e-6)  # ||mu||^2 = 4 * 2^2
    # b = 2a: (S_a S_b)^(1/2) = 2 S_a, so FD = ||mu_a||^2 + Tr(S_a)
    expected = float(a.double().mean(0).square().sum() + torch.cov(a.double().T).trace())
    assert frechet_distance(a, 2 * a) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_onnx_export_matches_pytorch(tmp_path, norm):
    G = N.init_weights(N.define_G("unet_128", ngf=8, norm=norm),
                       generator=torch.Generator().manual_seed(0))  # fmt: skip
    path = export_onnx(G, tmp_path / "g.onnx", size=128)
    x = torch.rand(2, 3, 128, 128) * 2 - 1
    prepare(G)
    for m in G.modules():
        if isinstance(m, torch.nn.Dropout):
            m.eval()  # not exported
    with torch.no_grad():
        expected = torch.cat([G(x[:1]), G(x[1:])])  # the paper's per-image batch statistics
    assert (onnx_predict(path, x) - expected).abs().max() < 1e-4


def test_batched_translation_gives_each_image_its_single_result():
    from photogen.pix2pix.infer import BatchTranslator

    G = N.init_weights(N.define_G("unet_128", ngf=8), generator=torch.Generator().manual_seed(0))
    x = torch.rand(3, 3, 128, 128) * 2 - 1
    paper = BatchTranslator(G)
    batched = paper(x, [5, 6, 7])
    for i, seed in enumerate([5, 6, 7]):
        assert torch.equal(batched[i : i + 1], paper(x[i : i + 1], [seed]))
    assert not torch.equal(paper(x[:1], [1]), paper(x[:1], [2]))  # dropout is on
    for d in paper.dropouts:
        d.p = 0.0
    prepare(G)  # the reference's test mode, image by image, without dropout
    for m in G.modules():
        if isinstance(m, torch.nn.Dropout):
            m.eval()
    with torch.no_grad():
        single = torch.cat([G(x[i : i + 1]) for i in range(3)])
    assert (paper(x, [0, 0, 0]) - single).abs().max() < 1e-5
    G.eval()
    with torch.no_grad():
        assert (BatchTranslator(G, eval_mode=True)(x, [0] * 3) - G(x)).abs().max() < 1e-5
