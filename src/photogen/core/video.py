"""Video files in and out, through PyAV (FFmpeg's libraries, shipped in the ``av`` wheel).

Frames cross the API as ``(1, 3, H, W)`` float32 sRGB in [0, 1], as images do. Timestamps are
kept: every decoded frame carries its presentation time in the source's time base, the
writer stamps each output frame with the time of the frame it came from, so the output has
the source's frame rate, timing (variable frame rates included) and duration. The audio
track is copied packet by packet (remuxed, never re-encoded).

Damage is reported through ``on_error``, one line per damaged stretch, and skipped; a file
whose frames stop before its declared duration is reported as truncated; a file that is not
a readable video raises :class:`VideoError` with one line saying why.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from photogen.core.videodamage import DamageReport, listening

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".mpg", ".mpeg", ".y4m")


class VideoError(ValueError):
    """A file that cannot be read or written as a video."""


def is_video(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a video file (by its extension)."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def _av():
    try:
        import av
    except ImportError as e:  # pragma: no cover - av is a dependency
        raise VideoError("video needs PyAV: pip install av") from e
    return av


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` finds in a file."""

    path: str
    width: int
    height: int
    fps: Fraction  # average frame rate
    time_base: Fraction
    frames: int  # the container's count, or an estimate from the duration (0 if unknown)
    duration: float  # seconds (0 if unknown)
    codec: str
    has_audio: bool


@dataclass
class Frame:
    """One decoded frame: its index among the frames kept, its time and its pixels."""

    index: int
    pts: int  # presentation time in ``time_base`` units
    time: float  # seconds from the start of the file
    image: torch.Tensor  # (1, 3, H, W) float32 in [0, 1]


def _open(path: str | os.PathLike):
    av = _av()
    p = Path(path)
    if not p.is_file():
        raise VideoError(f"{p}: no such file")
    try:
        container = av.open(str(p))
    except (av.error.FFmpegError, UnicodeDecodeError) as e:
        raise VideoError(f"{p}: not a readable video ({e.__class__.__name__}: {e})") from e
    if not container.streams.video:
        container.close()
        raise VideoError(f"{p}: has no video stream")
    return container


def probe(path: str | os.PathLike) -> VideoInfo:
    """Size, rate, length and streams of a video file (raises :class:`VideoError`)."""
    container = _open(path)
    try:
        s = container.streams.video[0]
        fps = Fraction(s.average_rate or s.guessed_rate or 25)
        duration = (
            float(s.duration * s.time_base) if s.duration else (container.duration or 0) / 1_000_000
        )
        frames = s.frames or int(round(duration * fps))
        if not s.width or not s.height:
            raise VideoError(f"{path}: the video stream has no frame size")
        return VideoInfo(
            str(path),
            s.width,
            s.height,
            fps,
            Fraction(s.time_base),
            frames,
            duration,
            s.codec_context.name,
            bool(container.streams.audio),
        )
    finally:
        container.close()


def frame_to_tensor(frame) -> torch.Tensor:
    """A PyAV ``VideoFrame`` -> ``(1, 3, H, W)`` float32 in [0, 1]."""
    rgb = frame.to_ndarray(format="rgb24")
    return torch.from_numpy(rgb).permute(2, 0, 1)[None].float().div_(255.0)


def tensor_to_rgb24(image: torch.Tensor) -> np.ndarray:
    """``(1, 3, H, W)`` in [0, 1] -> ``(H, W, 3)`` uint8 (rounded)."""
    if image.dim() != 4 or image.shape[:2] != (1, 3):
        raise ValueError(f"a frame must be (1, 3, H, W), got {tuple(image.shape)}")
    x = image[0].detach().float().clamp(0, 1).mul(255).round().to(torch.uint8)
    return np.ascontiguousarray(x.permute(1, 2, 0).cpu().numpy())


def read_frames(
    path: str | os.PathLike,
    start: float | None = None,
    end: float | None = None,
    on_error: Callable[[str], None] | None = None,
) -> Iterator[Frame]:
    """The frames of ``path`` whose time is in ``[start, end)`` seconds, in order.

    Damage is reported to ``on_error``, one line per damaged stretch (from the last good frame
    before it to the first good one after it, with FFmpeg's first complaint), and skipped: the
    frames after it still come. A file whose frames stop before the duration it declares
    (truncated, or unreadable past a point) is reported as such. ``Frame.index`` counts the
    frames yielded (0, 1, ...).
    """
    av = _av()
    container = _open(path)
    try:
        stream = container.streams.video[0]
        # slice threads only: with frame threads the decoder's complaints arrive some packets
        # late, at a time that varies from run to run, and a damaged stretch would be placed
        # by chance (decoding stays ~1,000 frames/s at 720x528 here, far above any network)
        stream.thread_type = "SLICE"
        tb = Fraction(stream.time_base)
        first = None
        index = 0
        damage = DamageReport(path, on_error)
        damage.tb = tb
        for pts, image in _reordered(_decoded(av, container, stream, damage)):
            if first is None:
                first = damage.first = pts
            t = float((pts - first) * tb)
            damage.frame(t)
            if start is not None and t < start - 1e-9:
                continue
            if end is not None and t >= end - 1e-9:
                return
            yield Frame(index, pts, t, image)
            index += 1
        rate = float(stream.average_rate or stream.guessed_rate or 0) or None
        declared = container.duration / 1e6 if container.duration else None
        damage.finish(declared, 1 / rate if rate else None)
    finally:
        container.close()


def _decoded(av, container, stream, damage: DamageReport):
    """(pts or None, image) in decoding order; FFmpeg's complaints go to ``damage`` with the
    time of the packet read then (a decoder thread's may come a few packets late); packets
    that do not decode are skipped, a container that cannot be read further ends it."""
    packets = container.demux(stream)
    pts = None  # of the last packet read
    with listening() as complaints:
        while True:
            problems = []
            try:
                packet = next(packets)
            except StopIteration:
                packet = None
            except av.error.FFmpegError as e:  # a truncated or corrupt container
                problems.append(e.strerror or str(e))
                packet = None
            decoded = []
            if packet is not None:
                pts = packet.pts if packet.pts is not None else pts
                try:
                    decoded = packet.decode()
                except av.error.FFmpegError as e:
                    problems.append(e.strerror or str(e))
            damage.complaints(complaints.take() + problems, pts)
            if packet is None:
                return
            for frame in decoded:
                yield frame.pts, frame_to_tensor(frame)


def _reordered(frames, window: int = 8):
    """Frames come out of the decoder in display order, but containers without presentation
    times (AVI) stamp them with the packets' decoding times: 1, 2, 3, 5, 4, ... for B-frames.
    Within a small window the right times are the same set, sorted, which is what FFmpeg's
    best-effort timestamp recovers; a stream with no times at all is numbered 0, 1, 2, ..."""
    import heapq

    held: list = []
    stamps: list[int] = []
    for count, (pts, image) in enumerate(frames):
        heapq.heappush(stamps, count if pts is None else pts)
        held.append(image)
        if len(held) > window:
            yield heapq.heappop(stamps), held.pop(0)
    while held:
        yield heapq.heappop(stamps), held.pop(0)


def default_codec(suffix: str) -> tuple[str, dict[str, str]]:
    """The encoder and its options for an output file type: H.264 (CRF 18, visually
    lossless for most footage) in MP4/MKV/MOV, VP9 in WebM, MPEG-4 part 2 in AVI."""
    suffix = suffix.lower()
    if suffix == ".webm":
        return "libvpx-vp9", {"crf": "30", "b": "0", "row-mt": "1"}
    if suffix in (".avi", ".mpg", ".mpeg"):
        return "mpeg4", {"qscale": "3"}
    return "libx264", {"crf": "18", "preset": "medium"}


def write_lossless(dst: str | os.PathLike, images: list[torch.Tensor]) -> None:
    """``images`` (each ``(1, 3, H, W)`` in [0, 1], one size) to ``dst`` losslessly: FFV1 in
    Matroska, RGB kept exactly (8 bits a channel), frame i at pts i. Not atomic by itself."""
    av = _av()
    h, w = images[0].shape[-2:]
    out = av.open(str(dst), mode="w")
    try:
        vs = out.add_stream("ffv1", rate=25)
        vs.width, vs.height, vs.pix_fmt = w, h, "bgr0"  # lossless RGB
        for i, image in enumerate(images):
            rgb = np.ascontiguousarray(tensor_to_rgb24(image))
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            for packet in vs.encode(frame):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
    finally:
        out.close()


def write_video(
    dst: str | os.PathLike,
    frames: Iterator[tuple[int, torch.Tensor]],
    info: VideoInfo,
    audio_from: str | os.PathLike | None = None,
    start: float | None = None,
    end: float | None = None,
) -> int:
    """Encode ``(pts, image)`` pairs (pts in ``info.time_base``, first frame's pts first) to
    ``dst`` and copy the audio of ``audio_from`` over ``[start, end)``; returns the frame count.

    The codec follows ``dst``'s extension (:func:`default_codec`); 4:2:0 chroma needs even
    sides, so an odd last row or column is dropped. Not atomic by itself: write to a
    temporary name (``core.atomic.atomic_path``) and rename.
    """
    av = _av()
    codec, options = default_codec(Path(dst).suffix)
    out = av.open(str(dst), mode="w")
    audio = None
    try:
        vs = out.add_stream(codec, rate=info.fps, options=options)
        vs.width, vs.height = info.width - info.width % 2, info.height - info.height % 2
        vs.pix_fmt = "yuv420p"
        vs.time_base = info.time_base
        vs.codec_context.time_base = info.time_base
        audio = _AudioCopy(out, audio_from, start, end) if audio_from else None
        count, first = 0, None
        for pts, image in frames:
            rgb = tensor_to_rgb24(image)
            if rgb.shape[:2] != (info.height, info.width):
                raise ValueError(
                    f"frame {count} is {rgb.shape[1]}x{rgb.shape[0]}, the video "
                    f"{info.width}x{info.height}"
                )
            first = pts if first is None else first
            frame = av.VideoFrame.from_ndarray(rgb[: vs.height, : vs.width], format="rgb24")
            frame.pts = pts - first
            frame.time_base = info.time_base
            for packet in vs.encode(frame):
                if audio:
                    audio.mux_until(packet.pts * info.time_base)
                out.mux(packet)
            count += 1
        for packet in vs.encode():
            out.mux(packet)
        if audio:
            audio.mux_until(None)
    finally:
        out.close()
        if audio is not None:
            audio.close()
    return count


class _AudioCopy:
    """The audio packets of a source over ``[start, end)`` seconds, muxed (not re-encoded)
    into ``out`` in time order alongside the video."""

    def __init__(self, out, src, start: float | None, end: float | None):
        av = _av()
        self.src = av.open(str(src))
        self.stream = self.src.streams.audio[0] if self.src.streams.audio else None
        if self.stream is None:
            self.packets = iter(())
            return
        self.out_stream = out.add_stream_from_template(self.stream)
        self.tb = Fraction(self.stream.time_base)
        self.origin = self.stream.start_time or 0
        self.start = start or 0.0
        self.end = end
        # times are shifted by the cut, so audio stays where it was against the video; without
        # a cut nothing moves (an encoder's priming packet before 0 is kept)
        self.offset = round(self.start / self.tb) if start else 0
        self.packets = self.src.demux(self.stream)
        self.pending = None

    def _next(self):
        av = _av()
        while True:
            try:
                p = next(self.packets)
            except (StopIteration, av.error.FFmpegError):
                return None
            if p.dts is None or p.pts is None or p.size == 0:
                continue
            t = float((p.pts - self.origin) * self.tb)
            if self.start and t < self.start - 1e-9:
                continue
            if self.end is not None and t >= self.end - 1e-9:
                return None
            return p

    def mux_until(self, seconds) -> None:
        """Mux the audio packets that start before ``seconds`` (None: all that remain)."""
        if self.stream is None:
            return
        out = self.out_stream.container
        while True:
            p = self.pending or self._next()
            self.pending = None
            if p is None:
                return
            t = float((p.pts - self.origin) * self.tb) - self.start
            if seconds is not None and t > seconds:
                self.pending = p
                return
            p.pts -= self.offset + (self.origin if self.start else 0)
            p.dts -= self.offset + (self.origin if self.start else 0)
            p.stream = self.out_stream
            out.mux(p)

    def close(self) -> None:
        self.src.close()
