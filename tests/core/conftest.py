import math
from fractions import Fraction

import numpy as np
import pytest
import torch

from photogen.core.samples import load_sample, pan_clip

FPS = 24


def write_clip(path, frames, fps=FPS, audio_seconds=None, codec="libx264", container=None):
    """A clip of ``frames`` ((1, 3, H, W) in [0, 1]): H.264 by default, optionally with an AAC
    sine track; ``codec="rawvideo", container="yuv4mpegpipe"`` for Chromium's fake camera."""
    import av

    out = av.open(str(path), mode="w", format=container)
    vs = out.add_stream(codec, rate=fps, options={"crf": "12"} if codec == "libx264" else {})
    h, w = frames[0].shape[-2:]
    vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
    audio = None
    if audio_seconds:
        audio = out.add_stream("aac", rate=48000)
        audio.layout = "mono"
    for i, f in enumerate(frames):
        rgb = (f[0].permute(1, 2, 0).clamp(0, 1) * 255).round().byte().numpy()
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame.pts = i
        frame.time_base = Fraction(1, fps)
        for p in vs.encode(frame):
            out.mux(p)
    for p in vs.encode():
        out.mux(p)
    if audio is not None:
        n = int(48000 * audio_seconds)
        t = np.arange(n) / 48000
        samples = (0.3 * np.sin(2 * math.pi * 440 * t)).astype(np.float32)[None]
        for k in range(0, n, 1024):
            af = av.AudioFrame.from_ndarray(samples[:, k : k + 1024], format="fltp", layout="mono")
            af.sample_rate = 48000
            af.pts = k
            for p in audio.encode(af):
                out.mux(p)
        for p in audio.encode():
            out.mux(p)
    out.close()
    return path


@pytest.fixture(scope="session")
def pan_frames():
    """48 frames (2 s at 24 fps), 96x128, the camera moving 2 px right, 1 px down a frame."""
    img = load_sample("astronaut")
    small = torch.nn.functional.interpolate(img, size=(256, 256), mode="area")
    return pan_clip(small, 48, (96, 128), (2, 1))


@pytest.fixture(scope="session")
def clip_path(tmp_path_factory, pan_frames):
    return write_clip(tmp_path_factory.mktemp("clip") / "pan.mp4", pan_frames, audio_seconds=2.0)
