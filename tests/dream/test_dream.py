"""DeepDream: the objective rises, the jitter is undone, tiles agree with one pass, memory is
bounded by the tile, and the CLI."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from photogen.cli.main import main
from photogen.core.image import read_image, save_image
from photogen.core.resample import resize
from photogen.core.samples import load_sample
from photogen.dream import DreamConfig, dream
from photogen.dream.dream import _gradient, objective
from photogen.nets.features import FeatureExtractor, build_network


@pytest.fixture(scope="module")
def extractor():
    return FeatureExtractor(build_network("efficientnet_lite0"), ["block10"])


@pytest.fixture(scope="module")
def photo():
    return resize(load_sample("chelsea"), (160, 240))


def test_the_objective_rises_at_every_octave(photo, extractor):
    result = dream(photo, DreamConfig(octaves=3, steps=4), extractor)
    assert len(result.objective) == 3 and result.image.shape == photo.shape
    for start, end in zip(result.objective_start, result.objective, strict=True):
        assert end > 1.2 * start, (start, end)
    # and the picture changed, by about the steps asked (1.5 grey levels a step, mean)
    change = float((result.image - photo).abs().mean()) * 255
    assert 2 < change < 60


def test_zero_steps_give_the_photo_back_exactly(photo, extractor):
    """Octaves, resizing and the jitter's roll leave nothing behind when no step is taken."""
    result = dream(photo, DreamConfig(octaves=4, steps=0, jitter=32), extractor)
    assert torch.equal(result.image, photo)


def test_one_step_moves_by_the_step_size_and_the_jitter_is_undone(photo, extractor,
                                                                   monkeypatch):  # fmt: skip
    """A step is the gradient normalised to a mean of 1.5/255; with a gradient that is a
    function of each pixel alone (the picture itself), the roll before the step and its undoing
    after it leave the result where jitter 0 puts it."""
    import importlib

    module = importlib.import_module("photogen.dream.dream")
    cfg = DreamConfig(octaves=1, steps=1, jitter=0)
    out = dream(photo, cfg, extractor).image
    grad = _gradient(extractor, "block10", photo, None, 4096)
    expected = (photo + 1.5 / 255 / grad.abs().mean() * grad).clamp(0, 1)
    assert torch.allclose(out, expected, atol=1e-6)
    monkeypatch.setattr(module, "_gradient", lambda ext, layer, image, *rest: image.clone())
    still = dream(photo, DreamConfig(octaves=1, steps=3, jitter=0), extractor).image
    shaken = dream(photo, DreamConfig(octaves=1, steps=3, jitter=32, seed=5), extractor).image
    assert float((still - photo).abs().mean()) > 1e-3
    assert torch.allclose(shaken, still, atol=1e-6)


def test_tiles_agree_with_one_pass(extractor):
    """Each tile is seen with half a tile of context: the gradient of a 256x384 picture in
    tiles of 128 correlates with the one-pass gradient."""
    image = resize(load_sample("chelsea"), (256, 384))
    whole = _gradient(extractor, "block10", image, None, 4096)
    tiled = _gradient(extractor, "block10", image, None, 192)
    corr = float(torch.corrcoef(torch.stack([whole.flatten(), tiled.flatten()]))[0, 1])
    assert corr > 0.95, corr
    value = objective(extractor, "block10", image, tile=4096)
    assert value == pytest.approx(float(0.5 * extractor(image)["block10"].pow(2).sum()), rel=1e-5)


def test_a_guide_picture_steers_the_dream(photo, extractor):
    guide = resize(load_sample("astronaut"), (128, 128))
    plain = dream(photo, DreamConfig(octaves=2, steps=3), extractor)
    guided = dream(photo, DreamConfig(octaves=2, steps=3), extractor, guide=guide)
    assert guided.objective[-1] > guided.objective_start[-1]
    assert float((guided.image - plain.image).abs().mean()) > 1e-3


def test_memory_is_bounded_by_the_tile_not_the_photo():
    """A 1536x1536 photo in tiles of 256: the process's peak stays far below what one pass
    over the whole would take (about 2.4 GiB measured)."""
    code = (
        "import resource, torch; from photogen.dream import DreamConfig, dream;"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss;"
        "x = torch.rand(1, 3, 1536, 1536, generator=torch.Generator().manual_seed(0));"
        "r = dream(x, DreamConfig(octaves=1, steps=1, tile=256));"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300)  # fmt: skip
    grown = float(out.stdout.strip().splitlines()[-1])
    assert grown < 1000, f"{grown:.0f} MiB"


def test_cli_dreams_lists_layers_and_refuses_an_unknown_one(photo, tmp_path, capsys):
    src = save_image(photo, tmp_path / "cat.png")
    out = tmp_path / "dream.png"
    assert main(["dream", str(src), "-o", str(out), "--octaves", "2", "--steps", "2",
                 "--seed", "1", "-q"]) == 0  # fmt: skip
    a = read_image(out)
    assert a.shape == photo.shape and float((a - photo).abs().mean()) > 1e-3
    again = tmp_path / "again.png"
    main(["dream", str(src), "-o", str(again), "--octaves", "2", "--steps", "2", "--seed", "1",
          "-q"])  # fmt: skip
    assert torch.equal(read_image(again), a)  # the same seed, the same picture
    capsys.readouterr()
    assert main(["dream", "--layers"]) == 0
    listed = capsys.readouterr().out.split()
    assert "block10" in listed and listed[0] == "stem"
    with pytest.raises(SystemExit) as e:
        main(["dream", str(src), "-o", str(out), "--layer", "inception_4c"])
    assert e.value.code == 2 and "inception_4c" in capsys.readouterr().err


def test_a_video_is_dreamt_frame_by_frame_with_the_temporal_blend(tmp_path):
    """A panning clip: every frame comes out, the first one changed as the photo's own dream
    changes it (the blend has nothing to carry yet), and the blend lowers the warping error
    against plain per-frame dreams."""
    from photogen.core.flow import warping_error
    from photogen.core.samples import pan_clip
    from photogen.core.video import read_frames
    from tests.core.conftest import write_clip

    small = resize(load_sample("astronaut"), (192, 192))
    clip = write_clip(tmp_path / "pan.mp4", pan_clip(small, 8, (80, 112), (2, 1)))
    args = ["--octaves", "2", "--steps", "8", "--layer", "block6", "-q"]
    outs = {}
    for flag in ([], ["--no-temporal"]):
        out = tmp_path / f"out{len(flag)}.mp4"
        assert main(["dream", str(clip), "-o", str(out), *args, *flag]) == 0
        outs[bool(flag)] = [f.image for f in read_frames(out)]
    inputs = [f.image for f in read_frames(clip)]
    assert len(outs[False]) == len(outs[True]) == 8
    net = FeatureExtractor(build_network("efficientnet_lite0"), ["block6"])
    first = dream(inputs[0], DreamConfig(layer="block6", octaves=2, steps=8), net).image
    # what the video's first frame changed is the photo's own dream's change (the codec's
    # loss aside: a dream's fine detail does not survive it exactly)
    made, want = (outs[True][0] - inputs[0]).flatten(), (first - inputs[0]).flatten()
    assert torch.corrcoef(torch.stack([made, want]))[0, 1] > 0.6
    assert warping_error(outs[False], inputs) < 0.8 * warping_error(outs[True], inputs)
