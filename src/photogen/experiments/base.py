"""The experiment registry, the runner and the HTML page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Settings:
    """How big to run: ``full`` (the larger version), ``tiny`` (tests: seconds)."""

    full: bool = False
    tiny: bool = False
    seed: int = 0
    device: str = "cpu"
    db: str | None = None  # data-size: also a tiny-images database (labels: its folders)
    log: Callable[[str], None] = field(default=lambda m: None, repr=False)


@dataclass
class Outcome:
    """What one experiment found."""

    setup: str  # what was run, in a sentence or two
    numbers: dict  # the measurements (JSON-able)
    figures: list[str]  # file names in the experiment's folder
    finding: str  # what the numbers say about the claim


@dataclass(frozen=True)
class Experiment:
    """One claim re-run: ``run`` measures, ``verdict`` reads the claim's direction from the
    numbers ``run`` recorded (so anyone can recompute it from ``results.json``)."""

    name: str
    title: str
    claim: str
    source: str  # the paper and figure it re-runs
    run: Callable[[Path, Settings], Outcome]
    verdict: Callable[[dict], bool] | None = None  # None: not a yes/no claim


def natural_photos() -> list[str]:
    """The offline sample photographs (opencv-doc's PNGs are drawings, silhouettes, charts)."""
    from photogen.core.samples import OPENCV_DOC, photo_samples, sample_path

    return [
        n
        for n in photo_samples()
        if not (sample_path(n).parent == OPENCV_DOC and sample_path(n).suffix == ".png")
    ]
