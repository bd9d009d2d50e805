"""A tiny pix2pix run folder (untrained unet_256, 4 filters) for the studio's tests."""

from __future__ import annotations

import contextlib
import json
import threading
import time

import pytest
import torch

from photogen.core.weights import save_safetensors
from photogen.pix2pix.networks import define_G, init_weights


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    for name, data in (("tiny_facades", "data/facades"), ("tiny_edges", "data/edges2cats")):
        G = define_G("unet_256", 3, 3, 4, "batch", True)
        init_weights(G, generator=torch.Generator().manual_seed(len(name)))
        run = root / name
        run.mkdir()
        save_safetensors(G.state_dict(), run / "generator.safetensors")
        (run / "config.json").write_text(json.dumps({"data": data}))
    return root


@pytest.fixture(scope="session")
def tiny_db(tmp_path_factory):
    """A tiny-images database of two labelled folders: reds and blues."""
    from photogen.tinyimages.database import TinyDB, build
    from photogen.tinyimages.search import fit_pca
    from tests.conftest import tinted_photo_folders

    root = tinted_photo_folders(tmp_path_factory.mktemp("photos"), per_label=24)
    db = TinyDB(tmp_path_factory.mktemp("db") / "db", create=True)
    build(db, [root])
    fit_pca(db, dims=8)
    fit_pca(db, dims=8, colour=False)
    return db.root, root


@pytest.fixture(scope="session")
def pixelcnn_run(tmp_path_factory):
    """An untrained grey PixelCNN saved as a run folder."""
    from photogen.pixelcnn.model import PixelCNN, PixelCNNConfig
    from photogen.pixelcnn.train import save_model

    torch.manual_seed(0)
    run = tmp_path_factory.mktemp("pcnn") / "tiny_pixelcnn"
    run.mkdir()
    save_model(
        PixelCNN(PixelCNNConfig(channels=1, hidden=8, layers=2)), run / "model.safetensors", {}
    )
    return run


@contextlib.contextmanager
def serve_studio(config):
    """The studio for ``config`` on a free local port, in a thread; yields its URL."""
    import uvicorn

    from photogen.cli.studio import free_port
    from photogen.studio.server import create_app

    port = free_port()
    app = create_app(config)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "the studio did not start"
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(10)


class CspBypassBrowser:
    """A Playwright browser whose pages bypass the studio's Content-Security-Policy: the
    policy forbids eval, which Playwright's string predicates (``wait_for_function``) use.
    ``strict_page()`` keeps the policy (for the test that the page itself obeys it)."""

    def __init__(self, browser):
        self._browser = browser

    def new_page(self, **kwargs):
        return self._browser.new_page(bypass_csp=True, **kwargs)

    def new_context(self, **kwargs):
        return self._browser.new_context(bypass_csp=True, **kwargs)

    def strict_page(self, **kwargs):
        return self._browser.new_page(**kwargs)

    def close(self):
        self._browser.close()


@pytest.fixture(scope="session")
def fast_style_run(tmp_path_factory):
    """A fast style network trained for three steps (enough to differ from the photo)."""
    from photogen.core.image import save_image
    from photogen.core.resample import resize
    from photogen.core.samples import load_sample
    from photogen.faststyle.train import TrainConfig, train

    root = tmp_path_factory.mktemp("fast")
    photos = root / "photos"
    photos.mkdir()
    for name in ("coffee", "rocket"):
        save_image(resize(load_sample(name), (96, 128)), photos / f"{name}.png")
    style = save_image(resize(load_sample("gravel"), (96, 96)), root / "gravel.png")
    run = root / "runs" / "tiny_gravel"
    train(TrainConfig(style=str(style), steps=3, size=64, batch=1, style_size=96,
                      save_every=3, gallery_every=100), run, content=[str(photos)],
          log=lambda m: None)  # fmt: skip
    return run
