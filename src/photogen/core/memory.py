"""The process's anonymous resident memory, and its peak over a stretch of work.

``RssAnon`` (``/proc/self/status``) counts the heap, the tensors and the arrays the process
owns, not the pages of memory-mapped files, which the kernel may drop and read again (the page
cache): that is the memory a database of any size must keep bounded. ``ru_maxrss`` and ``RSS``
count both, so a scan of a 30 GB memory-mapped file looks like 30 GB of "memory" there.
Linux only; elsewhere :func:`rss_anon` returns None and :class:`AnonPeak` reports None.
"""

from __future__ import annotations

import threading


def proc_kib(path: str, key: str) -> int | None:
    """Bytes of a ``Key:  N kB`` line of a /proc file (``/proc/meminfo``,
    ``/proc/self/status``); None where the file or the key is missing."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(f"{key}:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def rss_anon() -> int | None:
    """Anonymous resident bytes of this process now (None where /proc is missing)."""
    return proc_kib("/proc/self/status", "RssAnon")


class AnonPeak:
    """Peak anonymous memory within a ``with`` block, sampled every ``interval`` seconds on a
    thread (and at entry and exit), above or including the level at entry.

    >>> with AnonPeak() as m:
    ...     work()
    >>> m.peak, m.growth  # bytes: the highest sample, and the highest minus the entry level
    """

    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self.start = self.peak = None
        self._stop = threading.Event()

    def _sample(self) -> None:
        now = rss_anon()
        if now is not None and (self.peak is None or now > self.peak):
            self.peak = now

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> AnonPeak:
        self.start = rss_anon()
        self._sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def growth(self) -> int | None:
        """Highest sample minus the level at entry (bytes)."""
        return None if self.peak is None or self.start is None else self.peak - self.start
