"""Running experiments: each into its own folder with ``results.json`` (the verdict computed
from the numbers recorded there), and one HTML page over every experiment found."""

from __future__ import annotations

import html
import json
import os
import time
from dataclasses import asdict
from pathlib import Path

from photogen.core.atomic import write_text_atomic
from photogen.experiments.base import Settings
from photogen.experiments.catalogue import EXPERIMENTS


def run_experiments(names: list[str], out_dir: str | os.PathLike, settings: Settings,
                    force: bool = False) -> dict[str, dict]:  # fmt: skip
    """Run ``names`` (``all``: every one) into ``out_dir/NAME/``; an experiment whose
    ``results.json`` exists (same settings) is not run again unless ``force``. Writes
    ``out_dir/index.html`` over every experiment found there. Returns name -> results."""
    if names == ["all"]:
        names = list(EXPERIMENTS)
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
        record = {"name": name, "title": exp.title, "claim": exp.claim, "source": exp.source,
                  "settings": wanted, "seconds": round(time.perf_counter() - t0, 1),
                  **asdict(outcome)}  # fmt: skip
        numbers = json.loads(json.dumps(outcome.numbers, default=float))  # as results.json
        record["holds"] = bool(exp.verdict(numbers)) if exp.verdict else None
        write_text_atomic(done, json.dumps(record, indent=1, default=float))
        results[name] = record
        settings.log(f"{name}: {outcome.finding} ({record['seconds']:.0f} s)")
    write_page(out)
    return results


def write_page(out: Path) -> Path:
    """``out/index.html``: one section per experiment folder with a results.json."""
    records = []
    for name in EXPERIMENTS:
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
