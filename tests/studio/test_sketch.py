"""The sketch tab's handlers, without a server."""

from __future__ import annotations

import pytest
import torch

from photogen.core.image import ImageError, decode_image, encode_png
from photogen.pix2pix.facades import PALETTE
from photogen.studio.sketch import SketchEngine, example_drawing, find_models


def test_models_found_and_described_without_server_paths(runs_dir):
    models = {m.name: m for m in find_models([runs_dir])}
    assert {"tiny_facades", "tiny_edges"} <= set(models)
    facades, edges = models["tiny_facades"], models["tiny_edges"]
    assert facades.kind == "labels" and facades.palette == PALETTE
    assert edges.kind == "lines" and edges.palette == {}
    public = facades.public()
    assert str(runs_dir) not in str(public) and public["palette"]["window"] == "#00d9ff"
    assert find_models([runs_dir / "tiny_edges"])[-1].name == "tiny_edges"  # a run itself


def test_translation_is_deterministic_and_follows_the_drawing(runs_dir):
    models = find_models([runs_dir])
    engine = SketchEngine(models)
    name = "tiny_facades"
    drawing = example_drawing(engine.models[name])
    a = engine.translate(name, drawing)
    assert a.shape == (1, 3, 256, 256) and a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, engine.translate(name, drawing))  # the same drawing, the same picture
    changed = drawing.clone()
    changed[..., 100:140, 100:140] = torch.tensor(PALETTE["door"]).view(1, 3, 1, 1)
    b = engine.translate(name, changed)
    assert (a - b).abs().max() > 1e-4
    png, ms = engine.translate_png(name, encode_png(drawing))
    assert 0 < ms < 60_000  # measured (not left at 0), and no hang
    assert (decode_image(png) - a).abs().max() <= 1 / 255 + 1e-6  # 8-bit PNG of the same


def test_bad_drawings_and_names_are_clear_errors(runs_dir, bad_files):
    engine = SketchEngine(find_models([runs_dir]))
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        engine.translate("nope", torch.zeros(1, 3, 256, 256))
    with pytest.raises(ImageError, match="drawing: corrupt or truncated"):
        engine.translate_png("tiny_facades", bad_files["truncated.png"].read_bytes())
    with pytest.raises(ImageError, match="too small"):
        engine.translate_png("tiny_facades", encode_png(torch.zeros(1, 3, 1, 1)))
    with pytest.raises(ImageError, match="exceeds the limit"):
        engine.translate_png("tiny_facades", encode_png(torch.zeros(1, 3, 300, 300)), 256 * 256)
