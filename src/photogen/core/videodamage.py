"""Damage in a video file, as one line per damaged stretch.

FFmpeg's demuxer ends quietly at a truncation and its decoders conceal damage, saying so only
in their log, which PyAV hands to the ``libav`` Python logger (from the decoder's own threads
too) and only when asked. :func:`listening` gathers those messages while a file is read, without
printing them; :class:`DamageReport` places each at the time of the packet read then and turns
them into lines for ``on_error`` (used by :func:`photogen.core.video.read_frames`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from fractions import Fraction


class DamageReport:
    """FFmpeg's error messages while a file is read, each at the time of the packet being read
    then, turned into one line per damaged stretch: complaints less than ``merge`` seconds
    apart are one stretch, from the last good frame before it to the first frame after it."""

    merge = 0.5

    def __init__(self, path, on_error: Callable[[str], None] | None):
        self.path, self.on_error = path, on_error
        self.points: list[tuple[int | None, str]] = []  # (packet pts, first complaint)
        self.first: int | None = None  # the first frame's pts (times count from it)
        self.tb = Fraction(1)
        self.last: float | None = None  # the time of the last frame seen
        self.stretch: dict | None = None

    def complaints(self, messages: list[str], pts: int | None) -> None:
        if messages:
            self.points.append((pts, messages[0].strip()))

    def _time(self, pts: int | None) -> float:
        if pts is None or self.first is None:
            return float("-inf")  # before the first frame
        return float((pts - self.first) * self.tb)

    def frame(self, t: float) -> None:
        while self.points and self._time(self.points[0][0]) <= t:
            pts, message = self.points.pop(0)
            at = self._time(pts)
            if self.stretch is None or at - self.stretch["end"] > self.merge:
                self._emit()
                self.stretch = {"begin": self.last, "end": at, "message": message}
            self.stretch["end"], self.stretch["resume"] = at, t
        if self.stretch is not None and t - self.stretch["end"] > self.merge:
            self._emit()
        self.last = t

    def _emit(self) -> None:
        s, self.stretch = self.stretch, None
        if s is not None:
            begin = f"{s['begin']:.2f} s" if s["begin"] is not None else "the start"
            self._say(f"damaged between {begin} and {s['resume']:.2f} s, frames there skipped "
                      f"(FFmpeg: {s['message']})")  # fmt: skip

    def finish(self, declared: float | None, interval: float | None) -> None:
        last = self.last if self.last is not None else 0.0
        short = declared is not None and last + 2.5 * (interval or 0.04) < declared
        tail = [m for _, m in self.points]  # complaints after the last frame
        if (
            self.stretch is not None
            and (short or tail)
            and last - self.stretch["end"] <= self.merge
        ):
            tail.insert(0, self.stretch["message"])  # the same damage as the early end
            self.stretch = None
        self._emit()
        why = f" (FFmpeg: {tail[0]})" if tail else ""
        if short:
            self._say(f"the frames stop at {last:.2f} s of the {declared:.2f} s the file "
                      f"declares: the rest is damaged or missing (truncated?){why}")  # fmt: skip
        elif tail:
            self._say(f"damaged after {last:.2f} s{why}")

    def _say(self, text: str) -> None:
        if self.on_error:
            self.on_error(f"{self.path}: {text}")


class _Complaints(logging.Handler):
    """FFmpeg's messages while a file is read: PyAV hands them to the ``libav`` Python logger,
    from the decoder's own threads too, at any moment; here they are kept, not printed."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.inbox: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.inbox.append(record.getMessage())

    def take(self) -> list[str]:
        got, self.inbox = self.inbox, []
        return got


@contextlib.contextmanager
def listening():
    import av.logging

    if av.logging.get_level() is None or av.logging.get_level() < av.logging.ERROR:
        av.logging.set_level(av.logging.ERROR)  # PyAV passes nothing on unless asked
    logger, handler = logging.getLogger("libav"), _Complaints()
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
