"""A tiny pix2pix run folder (untrained unet_256, 4 filters) for the studio's tests."""

from __future__ import annotations

import json

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
