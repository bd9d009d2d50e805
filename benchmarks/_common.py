"""Helpers for the benchmark scripts: peak-memory sampling, timing, images."""

from __future__ import annotations

import os
import statistics
import threading
import time
from contextlib import contextmanager

import torch

from photogen.core.samples import available_samples, load_sample


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@contextmanager
def measure():
    """Yield a dict that gets 'seconds' and 'peak_mb' (resident-set growth, sampled)."""
    out = {}
    base = rss_bytes()
    peak = [base]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_bytes())
            time.sleep(0.01)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    start = time.perf_counter()
    try:
        yield out
    finally:
        out["seconds"] = time.perf_counter() - start
        stop.set()
        t.join()
        out["peak_mb"] = (max(peak[0], rss_bytes()) - base) / 2**20


def median(values):
    return statistics.median(values)


def style_pair() -> tuple[torch.Tensor, torch.Tensor, str]:
    """Content and style images: chelsea + starry_night when opencv-doc is installed, else ihc.

    Chelsea is cropped to 5:8 (451x282), so that 256 and 512 px give sides that are whole
    multiples of the networks' stride (160x256, 320x512): at other sizes photogen optimises a
    padded canvas (no edge artefacts) and the reference the odd size itself, and the loss of
    one is not the other's objective."""
    style = "starry_night" if "starry_night" in available_samples() else "ihc"
    content = load_sample("chelsea")
    h, w = content.shape[-2:]
    keep = round(w * 5 / 8)
    content = content[..., (h - keep) // 2 : (h - keep) // 2 + keep, :]
    return content, load_sample(style), f"chelsea (5:8 crop) + {style}"


def report(label: str, ours: float, ref: float, extra: str = "") -> None:
    print(
        f"{label}: photogen: {ours:.2f} s, reference: {ref:.2f} s, ratio: {ref / ours:.2f}{extra}"
    )
