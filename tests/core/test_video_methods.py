"""Each method on video: temporal coherence measured against per-frame work, and the CLI."""

from __future__ import annotations

from importlib.resources import files

import pytest
import torch

from photogen.cli.main import main
from photogen.colorize.metrics import colourfulness
from photogen.core.flow import warping_error
from photogen.core.video import Frame, probe, read_frames

FACADES = str(files("photogen") / "data" / "pix2pix-facades-lite.safetensors")


def run(processor, clip):
    return [processor(Frame(i, i, i / 24, f)) for i, f in enumerate(clip)]


def test_colorize_temporal_halves_the_warping_error_and_keeps_the_colour(pan_frames):
    from photogen.colorize.pipeline import load_model
    from photogen.colorize.video import ColorizeFrames

    model = load_model("lite")
    clip = pan_frames[:12]
    plain = run(ColorizeFrames(model, 128, temporal=False), clip)
    smooth = run(ColorizeFrames(model, 128, temporal=True), clip)
    assert warping_error(smooth, clip) < warping_error(plain, clip) / 2
    c_plain = sum(map(colourfulness, plain)) / len(plain)
    c_smooth = sum(map(colourfulness, smooth)) / len(smooth)
    assert abs(c_smooth / c_plain - 1) < 0.10
    # the lightness is the frame's own: only ab is carried along the flow
    from photogen.core.color import lightness

    # (up to the gamut clipping of saturated colours)
    assert float((lightness(smooth[5]) - lightness(clip[5])).abs().mean()) < 1.0


def test_stylize_temporal_loss_lowers_the_warping_error(pan_frames):
    from photogen.core.samples import load_sample
    from photogen.gatys.style import StyleConfig
    from photogen.gatys.video import StylizeFrames

    clip = [torch.nn.functional.interpolate(f, size=(48, 64), mode="area") for f in pan_frames[:4]]
    style = load_sample("starry_night")
    cfg = StyleConfig(max_size=64, steps=15)
    plain = run(StylizeFrames([style], cfg, temporal=False), clip)
    smooth = run(StylizeFrames([style], cfg, temporal=True), clip)
    # 2x at this toy size (48x64, 15 evaluations); 4-8x at 160 px (benchmarks/video.py)
    assert warping_error(smooth, clip) < warping_error(plain, clip) / 1.5


def test_pix2pix_fixed_dropout_seed_and_blend(pan_frames):
    from photogen.pix2pix.infer import BatchTranslator
    from photogen.pix2pix.models import load_generator
    from photogen.pix2pix.video import Pix2PixFrames

    translator = BatchTranslator(load_generator(FACADES))
    clip = pan_frames[:6]
    still = [clip[0]] * 3  # a still scene: a fixed dropout seed gives the same picture
    outs = run(Pix2PixFrames(translator, 256, temporal=False), still)
    assert torch.equal(outs[0], outs[2])
    plain = run(Pix2PixFrames(translator, 256, temporal=False), clip)
    smooth = run(Pix2PixFrames(translator, 256, temporal=True), clip)
    assert warping_error(smooth, clip) < warping_error(plain, clip)
    assert plain[0].shape == clip[0].shape  # back at the frame's size


def test_cli_colorize_and_pix2pix_video(clip_path, tmp_path, capsys):
    out = tmp_path / "color.mp4"
    assert main(["colorize", str(clip_path), "-o", str(out), "--end", "1", "-q"]) == 0
    assert probe(out).frames == 24 and probe(out).has_audio
    out2 = tmp_path / "p2p.mkv"
    code = main(["pix2pix", "apply", str(clip_path), "--model", FACADES, "-o", str(out2),
                 "--start", "1", "--input-transform", "blur", "--no-temporal", "-q"])  # fmt: skip
    assert code == 0 and len(list(read_frames(out2))) == 24
    # a video needs a video output, and one video at a time
    for argv in ([str(clip_path), "-o", str(tmp_path / "x.png")],
                 [str(clip_path), str(clip_path), "-o", str(out)]):  # fmt: skip
        with pytest.raises(SystemExit) as e:
            main(["colorize", *argv, "-q"])
        assert e.value.code == 2
    assert "must be a video file" in capsys.readouterr().err
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00" * 100)
    assert main(["colorize", str(bad), "-o", str(tmp_path / "b.mp4"), "-q"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "broken.mp4: not a readable video" in err[0]


@pytest.mark.parametrize("name", ["vtest.avi", "tree.avi"])
def test_opencv_doc_videos_colorize_smoother(name):
    from pathlib import Path

    path = Path("/usr/share/doc/opencv-doc/examples/data") / name
    if not path.is_file():
        pytest.skip("Debian opencv-doc is not installed")
    from photogen.colorize.pipeline import load_model
    from photogen.colorize.video import ColorizeFrames

    clip = [f.image for f, _ in zip(read_frames(path, end=1.0), range(10), strict=False)]
    clip = [torch.nn.functional.interpolate(f, scale_factor=0.5, mode="area") for f in clip]
    model = load_model("lite")
    plain = run(ColorizeFrames(model, 128, temporal=False), clip)
    smooth = run(ColorizeFrames(model, 128, temporal=True), clip)
    assert warping_error(smooth, clip) < warping_error(plain, clip)


@pytest.mark.parametrize("engine", ["onnxruntime", "openvino"])
def test_engines_equal_eager(engine, pan_frames, monkeypatch):
    pytest.importorskip(engine)
    from photogen.colorize.pipeline import load_model
    from photogen.colorize.video import ColorizeFrames
    from photogen.pix2pix.infer import BatchTranslator
    from photogen.pix2pix.models import load_generator
    from photogen.pix2pix.video import Pix2PixFrames

    translator = BatchTranslator(load_generator(FACADES))
    frame = Frame(0, 0, 0.0, pan_frames[0])
    eager = Pix2PixFrames(translator, 256, seed=3, temporal=False, keep_size=False)
    other = Pix2PixFrames(translator, 256, seed=3, temporal=False, keep_size=False,
                          engine=engine)  # fmt: skip
    reference = translator(eager.translate(frame.image)[0] * 2 - 1, [3])
    assert torch.allclose(eager(frame), (reference + 1) / 2, atol=1e-6)  # frozen dropout
    assert float((other(frame) - eager(frame)).abs().max()) < 1e-4
    model = load_model("lite")
    a = ColorizeFrames(model, 128, temporal=False)(frame)
    colorize = ColorizeFrames(model, 128, temporal=False, engine=engine)
    b = colorize(frame)
    assert float((a - b).abs().max()) < 1e-4
    expected = other(frame)

    def no_eager(*args, **kwargs):
        raise AssertionError("PyTorch ran the network: the engine was not used")

    # the engine really runs: with PyTorch's convolutions made unusable, its answers stay
    monkeypatch.setattr(torch.nn.Conv2d, "forward", no_eager)
    assert torch.equal(other(frame), expected)
    assert torch.equal(colorize(frame), b)
    with pytest.raises(AssertionError, match="PyTorch ran"):
        eager(frame)


def test_a_killed_run_resumes_to_the_uninterrupted_video(clip_path, tmp_path):
    """SIGKILL in the middle of a real run, then --resume: the same frames as a run that was
    never interrupted (temporal state carried across the kill)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from photogen.core.videojob import parts_dir

    def argv(out):
        return ["pix2pix", "apply", str(clip_path), "--model", FACADES, "-o", str(out),
                "--chunk", "4", "--engine", "torch", "-q"]  # fmt: skip

    whole = tmp_path / "whole.mp4"
    assert main(argv(whole)) == 0
    out = tmp_path / "killed.mp4"
    code = f"import sys; from photogen.cli.main import main; sys.exit(main({argv(out)!r}))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    deadline = time.time() + 60
    while not (parts_dir(out) / "chunk_00002.json").exists() and time.time() < deadline:
        if proc.poll() is not None:
            break
        time.sleep(0.01)
    # the child must still be running: one that crashed (or ended) is a failure, not a skip
    assert proc.poll() is None, f"the child ended with exit code {proc.returncode} before the kill"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists() and (parts_dir(out) / "chunk_00002.json").exists()
    assert main(argv(out)) != 0  # without --resume the leftover parts are refused
    assert main([*argv(out), "--resume"]) == 0
    a, b = [f.image for f in read_frames(whole)], [f.image for f in read_frames(out)]
    assert len(a) == len(b) == 48
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_colorize_hints_on_the_first_frame_follow_the_motion(pan_frames):
    """A point given on frame 0 moves with the scene (the pan shifts content by (-2, -1) px a
    frame) and keeps colouring what it was put on; a resumed processor carries it on equally.
    Fails with the flow's direction reversed or the points not carried."""
    from photogen.colorize.pipeline import load_model
    from photogen.colorize.video import ColorizeFrames
    from photogen.core.color import rgb_to_lab

    model = load_model("lite")
    clip = pan_frames[:11]
    x0, y0 = 90.0, 60.0  # asymmetric
    proc = ColorizeFrames(model, 128, temporal=True, hints=[(x0, y0, -30.0, -45.0)])
    out = run(proc, clip[:6])
    state = proc.state()
    rest = run(proc, clip[6:])
    x, y = proc.points[0][:2]
    assert abs(x - (x0 - 20)) < 3 and abs(y - (y0 - 10)) < 3
    ab = rgb_to_lab(rest[-1])[0, 1:, round(y), round(x)]
    assert float((ab - torch.tensor([-30.0, -45.0])).norm()) < 20
    again = ColorizeFrames(model, 128, temporal=True, hints=[(x0, y0, -30.0, -45.0)])
    again.load_state(state)
    assert torch.equal(run(again, clip[6:])[-1], rest[-1])
    assert out[0].shape == clip[0].shape


def test_cli_a_damaged_video_is_processed_reported_and_exits_1(clip_path, tmp_path, capsys):
    """As the README says: the damage is one line on stderr, the rest is processed, exit 1."""
    from tests.core.test_video import _damage

    bad = tmp_path / "damaged.mp4"
    _damage(clip_path, bad, [30])
    out = tmp_path / "out.mp4"
    code = main(["pix2pix", "apply", str(bad), "--model", FACADES, "-o", str(out),
                 "--no-temporal", "-q"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and probe(out).frames >= 45
    assert len(err) == 1 and err[0].startswith(f"photogen: error: {bad}: damaged between"), err
