"""Shared fixtures: small generated images, and a corpus of bad files made on the fly."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image


@pytest.fixture(autouse=True)
def _single_thread():
    torch.set_num_threads(1)  # stable timings and results on a shared 2-core machine


@pytest.fixture
def rgb_array():
    rng = np.random.default_rng(0)
    return (rng.random((24, 32, 3)) * 255).astype(np.uint8)


@pytest.fixture
def tiny_texture(tmp_path):
    """A 32x32 striped colour texture saved as PNG."""
    y, x = np.mgrid[0:32, 0:32]
    img = np.stack(
        [(np.sin(x / 2.0) + 1) / 2, (np.cos(y / 3.0) + 1) / 2, ((x + y) % 8) / 8.0], axis=-1
    )
    path = tmp_path / "stripes.png"
    Image.fromarray((img * 255).astype(np.uint8)).save(path)
    return path


def _png_header_bomb(width: int, height: int) -> bytes:
    """A PNG whose header claims a huge size (the pixel data is never decoded)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        return struct.pack(">I", len(data)) + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture
def bad_files(tmp_path, rgb_array):
    """name -> path of files that read_image must refuse with ImageError."""
    d = tmp_path / "bad"
    d.mkdir()
    good = io.BytesIO()
    Image.fromarray(rgb_array).save(good, format="PNG")
    jpg = io.BytesIO()
    Image.fromarray(rgb_array).save(jpg, format="JPEG")
    files = {
        "empty.png": b"",
        "text.png": b"this is not an image\n" * 10,
        "truncated.png": good.getvalue()[: len(good.getvalue()) // 2],
        "truncated.jpg": jpg.getvalue()[: len(jpg.getvalue()) // 3],
        "garbage.jpg": bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8)),
        "bomb.png": _png_header_bomb(100_000, 100_000),
        "html.jpg": b"<html><body>404 not found</body></html>",
    }
    out = {}
    for name, data in files.items():
        (d / name).write_bytes(data)
        out[name] = d / name
    (d / "folder.png").mkdir()
    out["folder.png"] = d / "folder.png"
    out["missing.png"] = d / "missing.png"
    return out


def tinted_photo_folders(root, per_label: int = 30, seed: int = 0):
    """``root/reds`` and ``root/blues``: smooth random 48x64 pictures of two tints (labelled
    folders for the tiny-images tests)."""
    from photogen.core.image import save_image

    g = torch.Generator().manual_seed(seed)
    for label, tint in (("reds", (1.0, 0.4, 0.3)), ("blues", (0.3, 0.5, 1.0))):
        for i in range(per_label):
            img = torch.rand(1, 3, 6, 6, generator=g) * torch.tensor(tint).view(1, 3, 1, 1)
            img = torch.nn.functional.interpolate(img, size=(48, 64), mode="bicubic")
            save_image(img.clamp(0, 1), root / label / f"{i:02d}.png")
    return root


@pytest.fixture
def http_file(tmp_path):
    """A small file served over HTTP on 127.0.0.1 (a real socket, as an online user's
    download): ``(url, digest, size)``; the server stops after the test."""
    import functools
    import hashlib
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    root = tmp_path / "served"
    root.mkdir()
    data = bytes(range(256)) * 1200  # 307,200 bytes: several chunks
    (root / "model.pth").write_bytes(data)
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/model.pth"
    yield url, hashlib.sha256(data).hexdigest(), len(data)
    server.shutdown()
    server.server_close()


# Optional components whose tests skip cleanly where they are missing; CI installs them and
# names them in PHOTOGEN_REQUIRE, where such a skip becomes a failure (a skip cannot hide).
COMPONENTS = {"chromium": "chromium", "opencv-doc": "opencv-doc", "gimp-data": "gimp-data",
              "fashion-mnist": "fashion-mnist", "axe-core": "axe-core"}  # fmt: skip


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    import os

    outcome = yield
    report = outcome.get_result()
    required = {c.strip() for c in os.environ.get("PHOTOGEN_REQUIRE", "").split(",") if c.strip()}
    if not report.skipped or not required:
        return
    reason = str(report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr)
    missing = [c for c in required if COMPONENTS.get(c, c) in reason]
    if missing:
        report.outcome = "failed"
        report.longrepr = (f"skipped for want of {', '.join(missing)}, which PHOTOGEN_REQUIRE "
                           f"says is installed: {reason}")  # fmt: skip


def child_failure(stderr: str, tail: int = 1200) -> str:
    """What a failed torchrun says, for an assertion message: the lines that name the root
    cause (errors, ``terminate called``, ``what():``), wherever they are, then the end (the
    launcher's summary alone, which ends its output, says only "SIGABRT")."""
    cause = [ln for ln in stderr.splitlines()
             if any(w in ln for w in ("Error", "error:", "terminate called", "what()",
                                      "Exception", "Address"))][:25]  # fmt: skip
    return "\n".join(cause) + "\n...\n" + stderr[-tail:]
