import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from photogen.core.image import ImageError, list_images, read_image, read_image_info, save_image


def test_rgb_png_roundtrip_exact(tmp_path, rgb_array):
    path = tmp_path / "a.png"
    Image.fromarray(rgb_array).save(path)
    img = read_image(path)
    assert img.shape == (1, 3, 24, 32) and img.dtype == torch.float32
    np.testing.assert_allclose(img[0].permute(1, 2, 0).numpy() * 255, rgb_array, atol=1e-3)
    save_image(img, tmp_path / "b.png")
    assert np.array_equal(np.asarray(Image.open(tmp_path / "b.png")), rgb_array)


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "1", "I;16"])
def test_modes_become_rgb(tmp_path, rgb_array, mode):
    pil = Image.fromarray(rgb_array)
    if mode == "I;16":
        pil = Image.fromarray(rgb_array[..., 0].astype(np.uint16) * 257)
    else:
        pil = pil.convert(mode)
    path = tmp_path / ("x.tif" if mode == "CMYK" else "x.png")
    pil.save(path)
    img = read_image(path)
    assert img.shape == (1, 3, 24, 32)
    assert img.min() >= 0.0 and img.max() <= 1.0
    if mode in ("L", "I;16"):
        assert torch.equal(img[:, 0], img[:, 1]) and torch.equal(img[:, 1], img[:, 2])
    if mode == "I;16":
        np.testing.assert_allclose(img[0, 0].numpy(), rgb_array[..., 0] / 255.0, atol=1e-6)


def test_alpha_composited_on_white_or_kept(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:2, :, 3] = 255  # top half opaque red, bottom half fully transparent
    path = tmp_path / "alpha.png"
    Image.fromarray(rgba, "RGBA").save(path)
    img = read_image(path)
    assert torch.allclose(img[0, :, 0, 0], torch.tensor([1.0, 0.0, 0.0]))
    assert torch.allclose(img[0, :, 3, 0], torch.ones(3))  # white
    kept = read_image(path, keep_alpha=True)
    assert kept.shape == (1, 4, 4, 4) and kept[0, 3, 3, 0] == 0


@pytest.mark.parametrize(
    ("tag", "display"),
    [
        (2, lambda a: a[:, ::-1]),  # mirrored left-right
        (3, lambda a: np.rot90(a, 2)),
        (6, lambda a: np.rot90(a, -1)),  # stored rotated: turn 90 degrees clockwise to show
        (8, lambda a: np.rot90(a, 1)),  # turn 90 degrees anticlockwise to show
    ],
)
def test_exif_orientation_applied(tmp_path, rgb_array, tag, display):
    """Pixels exactly as a viewer shows them (lossless PNG with an eXIf chunk): a clockwise /
    anticlockwise mix-up changes every pixel, not only the shape."""
    pil = Image.fromarray(rgb_array)  # 32 wide, 24 high
    exif = Image.Exif()
    exif[0x0112] = tag
    path = tmp_path / "rot.png"
    pil.save(path, exif=exif.tobytes())
    img = read_image(path)
    expected = np.ascontiguousarray(display(rgb_array)).astype(np.float32) / 255.0
    assert img.shape == (1, 3, *expected.shape[:2])
    np.testing.assert_array_equal(img[0].permute(1, 2, 0).numpy(), expected)
    jpeg = tmp_path / "rot.jpg"  # and through JPEG, where orientation tags live in practice
    pil.save(jpeg, exif=exif.tobytes(), quality=100)
    assert read_image(jpeg).shape == img.shape


def test_16bit_png_and_tiff_roundtrip(tmp_path):
    rng = np.random.default_rng(0)
    data = torch.from_numpy(rng.random((1, 3, 9, 11)).astype(np.float32))
    for name in ("deep.png", "deep.tif"):
        save_image(data, tmp_path / name, bit_depth=16)
        back, info = read_image_info(tmp_path / name)
        assert info.bit_depth == 16
        assert torch.allclose(back, data, atol=1 / 65535)
    raw = tifffile.imread(tmp_path / "deep.tif")
    assert raw.dtype == np.uint16


def test_bad_files_raise_image_error(bad_files):
    for name, path in bad_files.items():
        with pytest.raises(ImageError) as err:
            read_image(path)
        assert str(path) in str(err.value), name
        assert err.value.reason, name


def test_bomb_guard_names_the_limit(bad_files, tmp_path, rgb_array):
    with pytest.raises(ImageError, match="decompression"):
        read_image(bad_files["bomb.png"])
    path = tmp_path / "ok.png"
    Image.fromarray(rgb_array).save(path)
    with pytest.raises(ImageError, match="exceeds the limit"):
        read_image(path, max_pixels=100)


def test_save_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "out.png"
    save_image(torch.zeros(1, 3, 4, 4), target)
    before = target.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", boom)
    with pytest.raises(OSError):
        save_image(torch.ones(1, 3, 4, 4), target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]  # no temp file left


def test_save_rejects_bad_tensors(tmp_path):
    with pytest.raises(ValueError):
        save_image(torch.zeros(2, 3, 4, 4), tmp_path / "a.png")
    with pytest.raises(ValueError):
        save_image(torch.full((1, 3, 4, 4), float("nan")), tmp_path / "a.png")
    with pytest.raises(ValueError):
        save_image(torch.zeros(1, 3, 4, 4), tmp_path / "a.jpg", bit_depth=16)


def test_list_images_expands_dirs_and_globs(tmp_path, rgb_array):
    for n in ("b.png", "a.jpg", "notes.txt"):
        (tmp_path / n).write_bytes(b"x")
    assert [p.name for p in list_images(tmp_path)] == ["a.jpg", "b.png"]
    assert [p.name for p in list_images(str(tmp_path / "*.png"))] == ["b.png"]
    assert list_images(str(tmp_path / "nothing*.png")) == [tmp_path / "nothing*.png"]


def test_saved_files_get_normal_permissions(tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        path = save_image(torch.zeros(1, 3, 2, 2), tmp_path / "p.png")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
