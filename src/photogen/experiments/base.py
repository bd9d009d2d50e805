"""The experiment registry, the runner and the HTML page."""

from __future__ import annotations

import html
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from photogen.core.atomic import write_text_atomic


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
    holds: bool | None = None  # the claim's direction held (None: not a yes/no claim)


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    claim: str
    source: str  # the paper and figure it re-runs
    run: Callable[[Path, Settings], Outcome]


EXPERIMENTS: dict[str, Experiment] = {}
ORDER = (
    "data-size",
    "siblings",
    "colorize-loss",
    "pix2pix-loss",
    "texture-layers",
    "style-tradeoff",
    "mlp-capacity",
)  # the lecture's order, for 'all' and the page


def natural_photos() -> list[str]:
    """The offline sample photographs (opencv-doc's PNGs are drawings, silhouettes, charts)."""
    from photogen.core.samples import OPENCV_DOC, photo_samples, sample_path

    return [
        n
        for n in photo_samples()
        if not (sample_path(n).parent == OPENCV_DOC and sample_path(n).suffix == ".png")
    ]


def wallpapers() -> list[Path]:
    """Debian's wallpaper photos when installed (plasma-workspace-wallpapers: the largest file
    of each; mate-backgrounds): more varied scenes than the sample images."""
    out = []
    for folder in sorted(Path("/usr/share/wallpapers").glob("*/contents/images")):
        files = sorted(folder.glob("*.jpg")) + sorted(folder.glob("*.png"))
        if files:
            out.append(max(files, key=lambda f: f.stat().st_size))
    mate = Path("/usr/share/backgrounds/mate")
    if mate.is_dir():
        out += sorted(p for p in mate.rglob("*") if p.suffix.lower() in (".jpg", ".png"))
    return out


def register(name: str, title: str, claim: str, source: str):
    def wrap(fn: Callable[[Path, Settings], Outcome]):
        EXPERIMENTS[name] = Experiment(name, title, claim, source, fn)
        return fn

    return wrap


def run_experiments(names: list[str], out_dir: str | os.PathLike, settings: Settings,
                    force: bool = False) -> dict[str, dict]:  # fmt: skip
    """Run ``names`` (``all``: every one) into ``out_dir/NAME/``; an experiment whose
    ``results.json`` exists (same settings) is not run again unless ``force``. Writes
    ``out_dir/index.html`` over every experiment found there. Returns name -> results."""
    from photogen.experiments import catalogue  # noqa: F401 - registers the experiments

    if names == ["all"]:
        names = sorted(EXPERIMENTS, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER))
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown:
        raise ValueError(f"unknown experiment {unknown[0]!r}; choose from all, "
                         f"{', '.join(EXPERIMENTS)}")  # fmt: skip
    out = Path(out_dir)
    wanted = {"full": settings.full, "tiny": settings.tiny, "seed": settings.seed}
    if settings.db:
        wanted["db"] = str(Path(settings.db).resolve())
    results = {}
    for name in names:
        exp = EXPERIMENTS[name]
        folder = out / name
        done = folder / "results.json"
        if done.is_file() and not force:
            old = json.loads(done.read_text())
            if old.get("settings") == wanted:
                settings.log(f"{name}: already done ({done}); --force to run it again")
                results[name] = old
                continue
        folder.mkdir(parents=True, exist_ok=True)
        settings.log(f"{name}: {exp.title}")
        t0 = time.perf_counter()
        outcome = exp.run(folder, settings)
        if outcome.holds is not None:
            outcome.holds = bool(outcome.holds)  # numpy's bool is not JSON's
        record = {"name": name, "title": exp.title, "claim": exp.claim, "source": exp.source,
                  "settings": wanted, "seconds": round(time.perf_counter() - t0, 1),
                  **asdict(outcome)}  # fmt: skip
        write_text_atomic(done, json.dumps(record, indent=1, default=float))
        results[name] = record
        settings.log(f"{name}: {outcome.finding} ({record['seconds']:.0f} s)")
    write_page(out)
    return results


def write_page(out: Path) -> Path:
    """``out/index.html``: one section per experiment folder with a results.json."""
    records = []
    for name in sorted(EXPERIMENTS, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER)):
        f = out / name / "results.json"
        if f.is_file():
            records.append(json.loads(f.read_text()))
    e = html.escape
    parts = ["<!doctype html><meta charset='utf-8'><title>photogen: the lecture, re-run</title>",
             "<style>body{font:15px/1.45 system-ui;max-width:1100px;margin:2em auto;padding:0 1em}"
             "img{max-width:100%;border:1px solid #ddd;margin:.3em 0}td,th{padding:2px 8px;"
             "border-bottom:1px solid #eee;text-align:left}pre{background:#f6f6f6;padding:.6em;"
             "overflow:auto}.held{color:#070}.failed{color:#a00}</style>",
             "<h1>The lecture, re-run</h1>"]  # fmt: skip
    for r in records:
        verdict = ""
        if r.get("holds") is not None:
            cls, word = ("held", "holds here") if r["holds"] else ("failed", "did not hold here")
            verdict = f" <span class='{cls}'>({word})</span>"
        parts.append(f"<h2 id='{e(r['name'])}'>{e(r['title'])}</h2>")
        parts.append(f"<p><b>Claim</b> ({e(r['source'])}): {e(r['claim'])}</p>")
        parts.append(f"<p><b>Set-up</b>: {e(r['setup'])} Seed {r['settings']['seed']}, "
                     f"{'full' if r['settings']['full'] else 'default'} size, "
                     f"{r['seconds']:.0f} s.</p>")  # fmt: skip
        parts.append(f"<p><b>Measured</b>: {e(r['finding'])}{verdict}</p>")
        for fig in r["figures"]:
            parts.append(f"<img src='{e(r['name'])}/{e(fig)}' alt='{e(fig)}'>")
        parts.append(f"<details><summary>numbers</summary><pre>"
                     f"{e(json.dumps(r['numbers'], indent=1))}</pre></details>")  # fmt: skip
    path = out / "index.html"
    write_text_atomic(path, "\n".join(parts))
    return path
