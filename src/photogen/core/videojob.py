"""Long videos through a frame processor, in chunks that survive a kill (``resume=True``).

The frames are processed in order by a stateful processor (temporal methods carry the
previous frame's result). Every ``chunk`` frames the results are written as one finished
chunk in ``.NAME.parts/`` next to the output: the frames losslessly (FFV1 in Matroska), their
timestamps, and the processor's state after the last of them, each file written atomically
and the chunk's JSON last (the chunk exists once its JSON does). A resumed run loads the last
chunk's state and continues with the next frame, so it computes exactly the frames an
uninterrupted run computes. At the end the chunks are encoded into the output in one pass
with the source's audio copied in, the output is renamed into place and the parts are removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import torch
from safetensors.torch import load_file, save_file

from photogen.core.atomic import atomic_path, write_text_atomic
from photogen.core.training import LeftoverRunError
from photogen.core.video import (
    Frame,
    VideoError,
    VideoInfo,
    probe,
    read_frames,
    write_lossless,
    write_video,
)


class FrameProcessor(Protocol):
    """What :func:`process_video` runs on each frame."""

    def __call__(self, frame: Frame) -> torch.Tensor:
        """``(1, 3, H, W)`` in [0, 1]; every frame of a video must come out at one size."""
        ...

    def state(self) -> dict[str, torch.Tensor]:
        """Everything the next frame depends on (saved with each chunk)."""
        ...

    def load_state(self, state: dict[str, torch.Tensor]) -> None: ...


@dataclass
class VideoReport:
    frames: int
    seconds: float  # processing time of this run (not counting chunks done before a resume)
    processed: int  # frames processed in this run
    resumed_from: int  # frames already done when this run started
    errors: list[str]
    size: tuple[int, int]  # output (width, height)


def parts_dir(dst: str | os.PathLike) -> Path:
    """Where the chunks of ``dst`` are kept while it is being made."""
    dst = Path(dst)
    return dst.parent / f".{dst.name}.parts"


def _fingerprint(src: Path, start, end, chunk: int, settings: dict) -> dict:
    st = src.stat()
    text = json.dumps(settings, sort_keys=True, default=str)
    return {
        "source": str(src.resolve()),
        "bytes": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "start": start,
        "end": end,
        "chunk": chunk,
        "settings": hashlib.sha256(text.encode()).hexdigest()[:16],
    }


def _write_chunk(parts: Path, k: int, frames: list[tuple[int, torch.Tensor]], state) -> None:
    name = f"chunk_{k:05d}"
    h, w = frames[0][1].shape[-2:]
    with atomic_path(parts / f"{name}.mkv") as tmp:
        write_lossless(tmp, [image for _, image in frames])
    with atomic_path(parts / f"{name}.state.safetensors") as tmp:
        save_file({k2: v.detach().cpu().contiguous() for k2, v in state.items()}, str(tmp))
    meta = {"pts": [p for p, _ in frames], "width": w, "height": h}
    write_text_atomic(parts / f"{name}.json", json.dumps(meta))


def _done_chunks(parts: Path) -> list[dict]:
    done = []
    while (parts / f"chunk_{len(done):05d}.json").is_file():
        done.append(json.loads((parts / f"chunk_{len(done):05d}.json").read_text()))
    return done


def _chunk_frames(parts: Path, done: list[dict]) -> Iterator[tuple[int, torch.Tensor]]:
    for k, meta in enumerate(done):
        frames = read_frames(parts / f"chunk_{k:05d}.mkv")
        for pts, frame in zip(meta["pts"], frames, strict=True):
            yield pts, frame.image


def process_video(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    processor: FrameProcessor,
    *,
    start: float | None = None,
    end: float | None = None,
    chunk: int = 64,
    resume: bool = False,
    settings: dict | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_error: Callable[[str], None] | None = None,
    stop_after: int | None = None,
) -> VideoReport:
    """Run ``processor`` over the frames of ``src`` in ``[start, end)`` s and write ``dst``.

    Args:
        chunk: frames per finished chunk (what a kill can lose at most).
        resume: continue the chunks left by an interrupted run with the same source, cut and
            ``settings`` (else a leftover parts folder is an error, so no work is lost).
        settings: what the output depends on (method, model, seed...), checked on resume.
        progress: ``progress(done, total)`` after each frame (total: an estimate, 0 if unknown).
        on_error: receives one line per damaged frame (skipped) or truncated end.
        stop_after: stop after this many frames of this run without writing ``dst`` (tests of
            resuming; a real interruption is a kill).

    Raises:
        VideoError: ``src`` is not a readable video; LeftoverRunError: an interrupted run's
            parts and ``resume`` is off; FileExistsError: parts of another run.
    """
    src, dst = Path(src), Path(dst)
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    info = probe(src)
    parts = parts_dir(dst)
    fingerprint = _fingerprint(src, start, end, chunk, settings or {})
    manifest = parts / "manifest.json"
    if parts.exists():
        if not resume:
            raise LeftoverRunError(f"{parts} holds an interrupted run")
        if not manifest.is_file() or json.loads(manifest.read_text()) != fingerprint:
            raise FileExistsError(
                f"{parts} belongs to a run with another source, cut or settings: delete it"
            )
    else:
        parts.mkdir(parents=True)
        write_text_atomic(manifest, json.dumps(fingerprint, indent=1))
    done = _done_chunks(parts)
    skip = sum(len(m["pts"]) for m in done)
    chunks = len(done)  # the next chunk's number
    if done:
        k = len(done) - 1
        processor.load_state(load_file(str(parts / f"chunk_{k:05d}.state.safetensors")))
    fps = float(info.fps)
    total = info.frames
    if end is not None or start is not None:
        span = (end if end is not None else info.duration) - (start or 0.0)
        total = max(0, min(total, int(round(span * fps)))) if total else int(round(span * fps))
    errors: list[str] = []

    def report(message: str) -> None:
        errors.append(message)
        if on_error:
            on_error(message)

    pending: list[tuple[int, torch.Tensor]] = []
    processed = 0
    t0 = time.perf_counter()
    for frame in read_frames(src, start, end, on_error=report):
        if frame.index < skip:
            continue
        out = processor(frame)
        pending.append((frame.pts, out.detach().float().cpu()))
        processed += 1
        if progress:
            progress(skip + processed, total)
        if len(pending) == chunk:
            _write_chunk(parts, chunks, pending, processor.state())
            chunks += 1
            pending = []
        if stop_after is not None and processed >= stop_after:
            return VideoReport(skip + processed, time.perf_counter() - t0, processed, skip,
                               errors, (0, 0))  # fmt: skip
    if pending:
        _write_chunk(parts, chunks, pending, processor.state())
    seconds = time.perf_counter() - t0
    done = _done_chunks(parts)
    if not done:
        raise VideoError(f"{src}: no frame decoded in the range asked for")
    out_info = replace(info, width=done[0]["width"], height=done[0]["height"])
    with atomic_path(dst) as tmp:
        frames = write_video(tmp, _chunk_frames(parts, done), out_info, src, start, end)
    shutil.rmtree(parts, ignore_errors=True)
    return VideoReport(frames, seconds, processed, skip, errors,
                       (out_info.width, out_info.height))  # fmt: skip


__all__ = ["FrameProcessor", "VideoInfo", "VideoReport", "parts_dir", "process_video"]
