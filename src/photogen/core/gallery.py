"""HTML contact sheets (inputs, outputs, settings) and loss plots, reused by every method."""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from pathlib import Path

from photogen.core.atomic import atomic_path, write_text_atomic


@dataclass
class Tile:
    """One picture on a sheet: a file (relative to the sheet or absolute) and a caption."""

    path: str | os.PathLike
    caption: str = ""


@dataclass
class Section:
    """A row of tiles with a title, a note, and the settings that produced it."""

    title: str
    tiles: list[Tile] = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    note: str = ""


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;background:#fafafa;color:#222}
section{margin-bottom:2.5em} .row{display:flex;flex-wrap:wrap;gap:1em}
figure{margin:0;background:#fff;padding:.5em;border:1px solid #ddd}
figure img{max-width:384px;max-height:384px;display:block;image-rendering:auto}
figcaption{font-size:.85em;color:#555;max-width:384px}
table{border-collapse:collapse;font-size:.85em;margin-top:.5em}
td{border:1px solid #ddd;padding:.2em .6em} td:first-child{color:#666}
"""


def write_gallery(path: str | os.PathLike, title: str, sections: list[Section]) -> Path:
    """Write a self-contained HTML contact sheet atomically and return its path.

    Tile paths are written relative to the sheet's folder when they lie under it.
    """
    path = Path(path)
    root = path.parent.resolve()
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for sec in sections:
        parts.append(f"<section><h2>{html.escape(sec.title)}</h2>")
        if sec.note:
            parts.append(f"<p>{html.escape(sec.note)}</p>")
        parts.append("<div class='row'>")
        for tile in sec.tiles:
            p = Path(tile.path)
            if not p.is_absolute() and ((root / p).exists() or not p.exists()):
                p = root / p  # relative to the sheet; else relative to the working directory
            try:
                src = p.resolve().relative_to(root).as_posix()
            except ValueError:
                src = p.resolve().as_uri()
            parts.append(
                f"<figure><img src='{html.escape(src)}' alt='{html.escape(tile.caption)}'>"
                f"<figcaption>{html.escape(tile.caption)}</figcaption></figure>"
            )
        parts.append("</div>")
        if sec.settings:
            rows = "".join(
                f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
                for k, v in sec.settings.items()
            )
            parts.append(f"<table>{rows}</table>")
        parts.append("</section>")
    parts.append("</body></html>")
    write_text_atomic(path, "\n".join(parts))
    return path


def pyplot():
    """matplotlib's pyplot on the non-interactive Agg backend (figures are only saved)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: str | os.PathLike) -> Path:
    """Write a matplotlib figure as PNG atomically, then close it."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    pyplot().close(fig)
    return Path(path)


def plot_losses(
    losses: dict[str, list[float]], path: str | os.PathLike, title: str = "loss"
) -> Path:
    """Plot one or more loss curves (log scale) to a PNG, atomically."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=100)
    for name, values in losses.items():
        if values:
            ax.plot(range(1, len(values) + 1), values, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("evaluation")
    ax.set_title(title)
    if len(losses) > 1:
        ax.legend()
    fig.tight_layout()
    return save_figure(fig, path)
