"""Video in and out, chunks and resume, damaged files; flow and the temporal blend."""

from __future__ import annotations

import av
import numpy as np
import pytest
import torch

from photogen.core.flow import FlowPair, dis_flow, grey_u8, reliable, warp, warping_error
from photogen.core.temporal import TemporalBlend, flow_grey
from photogen.core.training import LeftoverRunError
from photogen.core.video import VideoError, probe, read_frames
from photogen.core.videojob import parts_dir, process_video
from tests.core.conftest import FPS


def audio_bytes(path) -> int:
    with av.open(str(path)) as c:
        return sum(p.size for p in c.demux(c.streams.audio[0]))


def frames_of(path) -> list[torch.Tensor]:
    return [f.image for f in read_frames(path)]


class Identity:
    def __call__(self, frame):
        return frame.image

    def state(self):
        return {}

    def load_state(self, state):
        pass


class Smoothed:
    """A stateful processor: the frame, with a random per-frame tint (flicker), blended."""

    def __init__(self):
        self.blend = TemporalBlend(0.8)

    def __call__(self, frame):
        g = torch.Generator().manual_seed(frame.index)
        tint = (torch.rand(1, 3, 1, 1, generator=g) - 0.5) * 0.3
        return self.blend.step(flow_grey(frame.image), (frame.image + tint).clamp(0, 1))

    def state(self):
        return self.blend.state()

    def load_state(self, state):
        self.blend.load_state(state)


def test_round_trip_keeps_frames_rate_duration_and_audio(clip_path, tmp_path):
    src = probe(clip_path)
    assert src.frames == 48 and src.fps == FPS and src.has_audio
    out = tmp_path / "out.mp4"
    report = process_video(clip_path, out, Identity(), chunk=10)
    got = probe(out)
    assert report.frames == 48 and got.frames == 48
    assert got.fps == FPS and abs(got.duration - src.duration) < 1.5 / FPS
    assert audio_bytes(out) == audio_bytes(clip_path)  # copied, not re-encoded
    assert not parts_dir(out).exists()
    a, b = frames_of(clip_path), frames_of(out)
    same = max(float((x - y).abs().mean()) for x, y in zip(a, b, strict=True))
    shifted = min(float((x - y).abs().mean()) for x, y in zip(a[1:], b, strict=False))
    assert same < 4 / 255 < shifted  # one H.264 generation (CRF 18), frames in place


def test_cut_keeps_the_range_and_its_audio(clip_path, tmp_path):
    out = tmp_path / "cut.mkv"
    process_video(clip_path, out, Identity(), start=0.5, end=1.5)
    got = probe(out)
    assert got.frames in (24, 25) or len(frames_of(out)) == 24
    assert len(frames_of(out)) == 24
    assert 0.8 < audio_bytes(out) / (audio_bytes(clip_path) / 2) < 1.2  # ~1 s of 2 s


def test_resume_after_an_interruption_equals_an_uninterrupted_run(clip_path, tmp_path):
    whole = tmp_path / "whole.mp4"
    process_video(clip_path, whole, Smoothed(), chunk=8)
    part = tmp_path / "part.mp4"
    first = process_video(clip_path, part, Smoothed(), chunk=8, stop_after=21)
    assert first.processed == 21 and not part.exists() and parts_dir(part).is_dir()
    with pytest.raises(LeftoverRunError, match="holds an interrupted run"):
        process_video(clip_path, part, Smoothed(), chunk=8)
    second = process_video(clip_path, part, Smoothed(), chunk=8, resume=True)
    assert second.resumed_from == 16 and second.processed == 32  # two chunks were finished
    a, b = frames_of(whole), frames_of(part)
    assert len(a) == len(b) == 48
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_resume_refuses_other_settings(clip_path, tmp_path):
    out = tmp_path / "o.mp4"
    process_video(clip_path, out, Identity(), chunk=8, stop_after=9, settings={"a": 1})
    with pytest.raises(FileExistsError, match="another source"):
        process_video(clip_path, out, Identity(), chunk=8, resume=True, settings={"a": 2})


def test_truncated_file_is_reported_and_the_rest_processed(clip_path, tmp_path):
    data = clip_path.read_bytes()
    cut = tmp_path / "cut.mkv"
    # remux to Matroska (frames can be read without the index at the end), then truncate
    process_video(clip_path, cut, Identity())
    cut.write_bytes(cut.read_bytes()[: int(len(cut.read_bytes()) * 0.6)])
    errors = []
    out = tmp_path / "rest.mp4"
    report = process_video(cut, out, Identity(), on_error=errors.append)
    assert 10 < report.frames < 48
    assert len(frames_of(out)) == report.frames
    assert report.errors == errors and len(errors) == 1, errors  # one line for one damage
    last = report.frames / FPS
    assert f"{cut}: the frames stop at" in errors[0] and "truncated" in errors[0]
    stop = float(errors[0].split("stop at ")[1].split(" s")[0])
    assert abs(stop - last) < 0.3 and "of the 2.0" in errors[0]
    assert len(data) > len(cut.read_bytes())


def _damage(path, out, packets):
    """``path`` with the data of the video packets numbered ``packets`` (decoding order)
    scrambled, the container left intact (MP4 keeps its index: the demuxer stays in step)."""
    with av.open(str(path)) as c:
        found = [(p.pts * c.streams.video[0].time_base, p.pos, p.size)
                 for p in c.demux(c.streams.video[0]) if p.size]  # fmt: skip
    data = bytearray(path.read_bytes())
    for k in packets:
        _, pos, size = found[k]
        for i in range(pos + size // 4, pos + size):
            data[i] = (i * 31) & 255
    out.write_bytes(bytes(data))
    return [float(found[k][0]) for k in packets]


def test_each_damaged_stretch_is_one_line_and_the_rest_comes(clip_path, tmp_path, capfd):
    bad = tmp_path / "two-damages.mp4"
    times = _damage(clip_path, bad, [10, 35])
    errors = []
    frames = list(read_frames(bad, on_error=errors.append))
    assert len(frames) >= 44  # the damaged frames concealed or skipped, the others all there
    assert len(errors) == 2, errors
    for line, t in zip(errors, times, strict=True):
        begin = float(line.split("between ")[1].split(" s")[0])
        end = float(line.split(" and ")[1].split(" s")[0])
        assert line.startswith(f"{bad}: damaged between") and "FFmpeg: " in line
        assert begin < t <= end + 1e-6 and end - begin < 0.5, (line, t)
    assert "error" not in capfd.readouterr().err  # FFmpeg's own lines are not printed
    clean = []
    assert len(list(read_frames(clip_path, on_error=clean.append))) == 48 and clean == []


def test_not_a_video_is_one_clear_error(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    with pytest.raises(VideoError, match="notes.mp4: not a readable video"):
        probe(bad)
    with pytest.raises(VideoError, match="no such file"):
        probe(tmp_path / "missing.mp4")


def test_lossless_chunks(clip_path, tmp_path):
    """What a chunk stores comes back bit for bit (FFV1, RGB)."""
    from photogen.core.videojob import _write_chunk

    g = torch.Generator().manual_seed(0)
    frames = [(i, torch.randint(0, 256, (1, 3, 17, 23), generator=g) / 255.0) for i in range(3)]
    _write_chunk(tmp_path, 0, frames, {"x": torch.ones(2)})
    back = frames_of(tmp_path / "chunk_00000.mkv")
    assert all(torch.equal(a[1], b) for a, b in zip(frames, back, strict=True))


def test_flow_recovers_the_known_motion(pan_frames):
    a, b = grey_u8(pan_frames[10]), grey_u8(pan_frames[11])
    back = dis_flow(b, a)  # frame 11's pixels are 2 px right, 1 px down of frame 10's
    inner = back[10:-10, 10:-10].reshape(-1, 2)
    assert np.allclose(np.median(inner, 0), [2.0, 1.0], atol=0.25)
    pair = FlowPair(a, b)
    warped, mask = pair.warp_previous(pan_frames[10])
    err = ((warped - pan_frames[11]).abs().mean(1, keepdim=True) * mask).sum() / mask.sum()
    assert float(err) < 0.02 and float(mask.mean()) > 0.85
    # pixels that come from outside the previous frame are not trusted
    assert float(mask[..., :, -1].mean()) < 0.2 or float(mask[..., -1, :].mean()) < 0.2


def test_reliable_marks_disagreeing_flow_as_occluded():
    h, w = 20, 30
    fwd = np.zeros((h, w, 2), np.float32)
    fwd[..., 0] = 2.0
    back = -fwd.copy()
    assert float(reliable(fwd, back)[..., :, : w - 3].mean()) == 1.0
    back[5:10, 5:10] = 5.0  # the backward flow disagrees there
    m = reliable(fwd, back)
    assert float(m[0, 0, 6:8, 4:6].max()) == 0.0


def test_warp_by_zero_flow_is_identity():
    x = torch.rand(1, 3, 9, 11)
    assert torch.allclose(warp(x, np.zeros((9, 11, 2), np.float32)), x, atol=1e-6)


def test_temporal_blend_removes_flicker(pan_frames):
    clip = pan_frames[:16]
    g = torch.Generator().manual_seed(0)
    tints = [(torch.rand(1, 3, 1, 1, generator=g) - 0.5) * 0.3 for _ in clip]
    flicker = [(f + t).clamp(0, 1) for f, t in zip(clip, tints, strict=True)]
    blend = TemporalBlend(0.8)
    smooth = [blend.step(flow_grey(f), x) for f, x in zip(clip, flicker, strict=True)]
    e_flicker, e_smooth = warping_error(flicker, clip), warping_error(smooth, clip)
    assert e_smooth < e_flicker / 2
    assert warping_error(clip, clip) < e_smooth  # the floor: the input itself
    with pytest.raises(ValueError):
        TemporalBlend(1.0)


def _first_packet_time(path, kind):
    with av.open(str(path)) as c:
        stream = getattr(c.streams, kind)[0]
        times = [float(p.pts * stream.time_base) for p in c.demux(stream) if p.pts is not None]
    return min(times)


def test_a_cut_starts_its_audio_with_its_video(clip_path, tmp_path):
    """--start 0.5: the output's first audio packet is at its start (shifted by 0.5 s with the
    video), not 0.5 s late."""
    out = tmp_path / "cut.mkv"
    process_video(clip_path, out, Identity(), start=0.5, end=1.5)
    assert _first_packet_time(out, "video") < 0.01
    audio = _first_packet_time(out, "audio")
    assert audio < 0.05, audio  # AAC frames are 21 ms: within about two of the start


def test_variable_frame_rate_timing_is_kept(pan_frames, tmp_path):
    """Frames at irregular times (a phone's variable rate): each output frame keeps the time
    of the frame it came from, not index / rate."""
    from fractions import Fraction

    times_ms = [0, 40, 80, 200, 240, 400, 440, 480, 700, 740, 1000, 1040]
    src = tmp_path / "vfr.mkv"
    out_c = av.open(str(src), mode="w")
    vs = out_c.add_stream("libx264", rate=25, options={"crf": "12"})
    vs.width, vs.height, vs.pix_fmt = 128, 96, "yuv420p"
    vs.time_base = vs.codec_context.time_base = Fraction(1, 1000)
    for t, f in zip(times_ms, pan_frames, strict=False):
        rgb = (f[0].permute(1, 2, 0) * 255).round().byte().numpy()
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame.pts, frame.time_base = t, Fraction(1, 1000)
        for p in vs.encode(frame):
            out_c.mux(p)
    for p in vs.encode():
        out_c.mux(p)
    out_c.close()
    got_src = [round(f.time * 1000) for f in read_frames(src)]
    assert got_src == times_ms  # the clip really is variable-rate
    out = tmp_path / "out.mkv"
    report = process_video(src, out, Identity())
    assert report.frames == len(times_ms)
    got = [round(f.time * 1000) for f in read_frames(out)]
    assert all(abs(a - b) <= 1 for a, b in zip(got, times_ms, strict=True)), got


def test_the_blend_does_not_carry_what_a_mover_uncovers():
    """A dark square moves 12 px right over a textured wall: where it was (uncovered now) the
    previous result is not to be trusted, so the blend there is the new result itself; on the
    still wall elsewhere the previous result is carried (no ghost of the square, and no loss
    of steadiness)."""
    g = torch.Generator().manual_seed(0)
    wall = torch.nn.functional.interpolate(torch.rand(1, 1, 12, 16, generator=g), size=(96, 128),
                                           mode="bicubic", align_corners=False)  # fmt: skip
    wall = (0.35 + 0.5 * wall).clamp(0, 1).expand(1, 3, -1, -1).contiguous()

    def frame(x):
        f = wall.clone()
        f[..., 30:70, x : x + 30] = 0.05
        return f

    a, b = frame(30), frame(42)
    blend = TemporalBlend(0.8)
    blend.step(flow_grey(a), a)
    new = (b + 0.2).clamp(0, 1)  # the method's result for b differs from its result for a
    out = blend.step(flow_grey(b), new)
    uncovered = (slice(None), slice(None), slice(34, 66), slice(32, 40))  # the square's old place
    still = (slice(None), slice(None), slice(5, 25), slice(80, 120))  # wall, nothing moves
    # the new result, not a ghost (0.03 here; 0.42 with the mask all ones)
    assert float((out - new)[uncovered].abs().mean()) < 0.1
    # on the still wall: value + alpha (warped previous - value), the previous being a
    assert float((out[still] - (new + 0.8 * (a - new))[still]).abs().mean()) < 0.02


def test_flow_is_computed_on_a_grey_frame_shrunk_to_its_side():
    """A 4K-wide frame: flow sees it at 512 px on its longer side, aspect kept, area-averaged
    grey levels; a frame that fits is only made grey; a sliver keeps at least 8 px."""
    g = torch.Generator().manual_seed(0)
    big = torch.rand(1, 3, 1080, 1920, generator=g)
    small = flow_grey(big)
    assert small.shape == (288, 512) and small.dtype == np.uint8
    expected = grey_u8(torch.nn.functional.interpolate(big, size=(288, 512), mode="area"))
    np.testing.assert_array_equal(small, expected)
    assert flow_grey(big, side=1920).shape == (1080, 1920)  # fits: not resized
    np.testing.assert_array_equal(flow_grey(big[..., :512, :512]), grey_u8(big[..., :512, :512]))
    assert flow_grey(torch.rand(1, 3, 20, 2000, generator=g)).shape == (8, 512)


def test_the_blend_starts_afresh_at_a_new_size_and_alpha_zero_keeps_each_result():
    a = torch.rand(1, 3, 32, 48, generator=torch.Generator().manual_seed(1))
    b = torch.rand(1, 3, 40, 40, generator=torch.Generator().manual_seed(2))
    blend = TemporalBlend(0.8)
    blend.step(flow_grey(a), a)
    assert torch.equal(blend.step(flow_grey(b), b), b)  # a cut to another size: nothing carried
    assert blend.flow(flow_grey(a)) is None  # the previous frame is b now: other size
    off = TemporalBlend(0.0)  # allowed: no smoothing
    off.step(flow_grey(a), a)
    assert torch.equal(off.step(flow_grey(a), a * 0.5), a * 0.5)
    assert TemporalBlend(0.8).state() == {}  # nothing to resume before the first frame


def test_reliable_follows_ruders_three_rules_at_their_thresholds():
    """Ruder et al.'s mask, rule by rule, at the thresholds (a forward-backward mismatch
    tolerance of 0.01 (|w|^2 + |w^|^2) + 0.5; a motion boundary; a pixel leaving the frame)."""
    h, w = 20, 30
    fwd = np.zeros((h, w, 2), np.float32)
    fwd[..., 0] = 2.0
    m = reliable(fwd, -fwd)[0, 0]
    assert float(m[:, : w - 2].min()) == 1.0 and float(m[:, w - 2 :].max()) == 0.0  # leaves
    up = np.zeros((h, w, 2), np.float32)
    up[..., 1] = -2.0
    m = reliable(up, -up)[0, 0]
    assert float(m[2:].min()) == 1.0 and float(m[:2].max()) == 0.0
    # mismatch: |s|^2 against 0.01 * (4 + |back|^2) + 0.5 ~ 0.58
    for delta, trusted in ((0.7, True), (0.8, False)):
        back = -fwd.copy()
        back[..., 0] += delta
        got = float(reliable(fwd, back)[0, 0, 5:15, 5:20].mean())
        assert got == (1.0 if trusted else 0.0), (delta, got)
    # a fast flow: the tolerance grows with it, 0.01 (|w|^2 + |w^|^2) + 0.5 = 7.5 at 20 px
    big = np.zeros((60, 90, 2), np.float32)
    big[..., 0] = 20.0
    for delta, trusted in ((2.6, True), (2.8, False)):
        back = -big.copy()
        back[..., 0] += delta
        got = float(reliable(big, back)[0, 0, 10:50, 5:60].mean())
        assert got == (1.0 if trusted else 0.0), (delta, got)
    # the same along y, for the v component and the row gradients
    tall = np.zeros((90, 60, 2), np.float32)
    tall[..., 1] = 20.0
    for delta, trusted in ((2.6, True), (2.8, False)):
        back = -tall.copy()
        back[..., 1] += delta
        got = float(reliable(tall, back)[0, 0, 5:60, 10:50].mean())
        assert got == (1.0 if trusted else 0.0), (delta, got)
    for axis, component in ((0, 0), (0, 1), (1, 0), (1, 1)):  # every derivative counts
        edge = np.zeros((h, w, 2), np.float32)
        if axis == 0:
            edge[10:, :, component] = 1.0
            m = reliable(edge, -edge)[0, 0]
            assert float(m[9:11, 5:25].max()) == 0.0, (axis, component)
        else:
            edge[:, 15:, component] = 1.0
            m = reliable(edge, -edge)[0, 0]
            assert float(m[5:15, 14:16].max()) == 0.0, (axis, component)
    # a motion boundary: the flow steps from 0 to 3 px between columns 14 and 15
    step = np.zeros((h, w, 2), np.float32)
    step[:, 15:, 0] = 3.0
    m = reliable(step, -step)[0, 0]
    assert float(m[:, 14:16].max()) == 0.0 and float(m[:, 3:12].min()) == 1.0


def test_flow_resampled_to_another_size_scales_with_it(pan_frames):
    a, b = grey_u8(pan_frames[3]), grey_u8(pan_frames[4])
    pair = FlowPair(a, b, "fast")
    flow, mask = pair.at(a.shape)
    assert flow is pair.back and mask is pair.mask  # the same size: as computed
    h, w = a.shape
    big_flow, big_mask = pair.at((2 * h, 3 * w))
    assert big_flow.shape == (2 * h, 3 * w, 2) and big_mask.shape == (1, 1, 2 * h, 3 * w)
    # the pan is (2, 1) px a frame at the small size: (6, 2) px at 3x wide, 2x high (the
    # backward flow points where each pixel was)
    centre = big_flow[h // 2 : 3 * h // 2, 3 * w // 4 : 9 * w // 4]
    assert abs(float(np.median(centre[..., 0])) - 6.0) < 0.6
    assert abs(float(np.median(centre[..., 1])) - 2.0) < 0.4
    np.testing.assert_array_equal(big_mask[0, 0, ::2, ::3].numpy(), pair.mask[0, 0].numpy())


def test_warping_error_is_the_masked_mean_difference_after_warping(pan_frames):
    clip = pan_frames[:4]
    assert warping_error(clip, clip) < 0.02  # the input is steady along its own flow
    shifted = [(f + 0.1 * (i % 2)).clamp(0, 1) for i, f in enumerate(clip)]  # flicker by 0.1
    e = warping_error(shifted, clip)
    assert 0.08 < e - warping_error(clip, clip) < 0.11
