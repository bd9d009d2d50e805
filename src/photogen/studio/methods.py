"""What the studio's job tabs share: the feature networks (built once per network, layers and
device), the progress of a multi-level optimisation as a job's ``report``, and the range
check of the page's numbers. Each tab's job and routes live in its own module (``style``,
``texture``, ``playground``, ``completion``)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import torch

from photogen.gatys.optimize import StepInfo
from photogen.nets.features import FeatureExtractor, build_network

_extractors: dict[tuple, FeatureExtractor] = {}
_extractor_lock = threading.Lock()


def extractor(network: str, layers: list[str], device: torch.device) -> FeatureExtractor:
    """One feature network per (network, layers, device), built on first use."""
    key = (network, tuple(layers), str(device))
    with _extractor_lock:
        if key not in _extractors:
            _extractors[key] = FeatureExtractor(build_network(network), layers).to(device)
        return _extractors[key]


class Counter:
    """StepInfo callbacks of a multi-level optimisation -> report(done, total, loss, image)."""

    def __init__(self, report: Callable):
        self.report, self.count, self.level = report, 0, -1
        self.total = 0

    def __call__(self, info: StepInfo) -> None:
        self.count += 1
        if info.level != self.level:
            self.level = info.level
            self.total = self.count - 1 + info.steps * (info.levels - info.level)
        self.report(self.count, self.total, info.loss, info.image)


def check_side(value: int, name: str, lo: int = 16, hi: int = 1024) -> int:
    value = int(value)
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be {lo}..{hi}, got {value}")
    return value
