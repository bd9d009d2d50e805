import struct

import numpy as np
import pytest
import torch

from photogen.core.image import ImageError, read_image
from photogen.core.samples import GIMP_PATTERNS, OPENCV_DOC, available_samples, load_sample


def _gimp_pattern(path, pixels: np.ndarray, name=b"test"):
    h, w, bpp = pixels.shape
    header = struct.pack(">5I", 24 + len(name) + 1, 1, w, h, bpp) + b"GPAT" + name + b"\0"
    path.write_bytes(header + pixels.astype(np.uint8).tobytes())


def test_gimp_pattern_reader(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (5, 7, 3))
    _gimp_pattern(tmp_path / "p.pat", rgb)
    img = read_image(tmp_path / "p.pat")
    assert torch.allclose(img[0].permute(1, 2, 0) * 255, torch.from_numpy(rgb).float(), atol=1e-3)
    grey = rng.integers(0, 256, (4, 4, 1))
    _gimp_pattern(tmp_path / "g.pat", grey)
    assert read_image(tmp_path / "g.pat").shape == (1, 3, 4, 4)
    data = (tmp_path / "p.pat").read_bytes()
    (tmp_path / "cut.pat").write_bytes(data[:-10])
    with pytest.raises(ImageError, match="truncated"):
        read_image(tmp_path / "cut.pat")


def test_bundled_samples_load():
    found = available_samples()
    for name in ("astronaut", "chelsea", "coffee", "brick", "grass", "gravel"):
        assert name in found
    img = load_sample("chelsea")
    assert img.shape == (1, 3, 300, 451)
    with pytest.raises(KeyError, match="available"):
        load_sample("no-such-sample")


@pytest.mark.skipif(not GIMP_PATTERNS.is_dir(), reason="Debian package gimp-data not installed")
def test_every_gimp_pattern_reads():
    pats = sorted(GIMP_PATTERNS.glob("**/*.pat"))
    assert len(pats) >= 50
    for p in pats:
        img = read_image(p)
        assert img.shape[1] == 3 and min(img.shape[-2:]) >= 16, p
    assert "gimp-brick" in available_samples()


@pytest.mark.skipif(not OPENCV_DOC.is_dir(), reason="Debian package opencv-doc not installed")
def test_opencv_doc_photos():
    img = load_sample("starry_night")
    assert img.shape[1] == 3 and img.shape[-1] > 500
