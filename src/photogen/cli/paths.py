"""Every command's file arguments checked in one place, before any work starts.

Each sub-command declares which of its arguments are inputs and outputs, and of what kind
(:func:`declare_paths`). :func:`check_paths` runs in ``main`` after parsing and before the
command: a missing input, a folder with no image in it, a folder where a file is expected, an
output that is a device or a folder, or an output folder that cannot be written becomes one
line naming the path and the reason. When some inputs of a batch are bad, each is reported and
dropped and the others are processed (exit code 1 at the end); when nothing is left to do the
command does not start (exit code 2). ``tests/cli/test_bad_paths.py`` walks every registered
sub-command through the same bad paths, so a command cannot be added without a declaration.

Input kinds:
    ``images``: image files, folders and globs; a batch (bad ones are dropped, the rest run).
    ``photos``: the same, folders searched recursively.
    ``image``: image file(s) that must all be read (a style image, a mask).
    ``folder``: a folder with image files somewhere below it (a dataset).
    ``dataset``: a dataset name (``digits``), or an image file or folder.
    ``file``: a readable regular file.
    ``model``: a model name, or a weights file or run folder.
    ``db``: an existing folder (a tiny-images database).
    ``runs``: a pix2pix run folder (``generator.safetensors`` in it), or a folder of them.
Output kinds: ``file``, ``file-or-folder`` (``-o`` of batch commands), ``folder``.
"""

from __future__ import annotations

import argparse
import errno
import glob
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from photogen.cli.common import UsageError, error
from photogen.core.image import IMAGE_SUFFIXES
from photogen.core.training import find_runs

INPUT_KINDS = ("images", "photos", "image", "folder", "dataset", "file", "model", "db", "runs")
OUTPUT_KINDS = ("file", "file-or-folder", "folder")
_BATCH = ("images", "photos")
_NAMED = ("dataset", "model")  # may be a name instead of a path
_WEIGHT_SUFFIXES = {".pth", ".pt", ".safetensors", ".onnx", ".ckpt", ".bin", ".npz"}


class PathError(UsageError):
    """An input or output path that cannot be used; the message names it (exit code 2)."""


@dataclass(frozen=True)
class PathSpec:
    """Which arguments of a command are file inputs and outputs, in the order checked."""

    inputs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)


def declare_paths(
    p: argparse.ArgumentParser,
    inputs: dict[str, str] | None = None,
    outputs: dict[str, str] | None = None,
) -> None:
    """Record ``{dest: kind}`` of a sub-command's input and output arguments (see module doc).

    Every sub-command calls this, with empty dicts when it reads and writes no file.
    """
    inputs, outputs = dict(inputs or {}), dict(outputs or {})
    for kind in inputs.values():
        if kind not in INPUT_KINDS:
            raise ValueError(f"unknown input kind {kind!r}")
    for kind in outputs.values():
        if kind not in OUTPUT_KINDS:
            raise ValueError(f"unknown output kind {kind!r}")
    p.set_defaults(path_spec=PathSpec(inputs, outputs))


def check_paths(args: argparse.Namespace) -> int:
    """Check the declared outputs, then inputs, of a parsed command line.

    Bad inputs of a batch argument are reported and removed from ``args``.

    Returns:
        The number of batch inputs dropped (the command's exit code becomes at least 1).

    Raises:
        PathError: an output cannot be written, or an input leaves nothing to do.
    """
    spec: PathSpec | None = getattr(args, "path_spec", None)
    if spec is None:
        return 0
    for dest, kind in spec.outputs.items():
        value = getattr(args, dest, None)
        if value is not None:
            problem = output_problem(Path(value), kind)
            if problem:
                raise PathError(f"{value}: {problem}")
    dropped = 0
    recursive = bool(getattr(args, "recursive", False))
    for dest, kind in spec.inputs.items():
        value = getattr(args, dest, None)
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        bad = [(v, input_problem(str(v), kind, recursive)) for v in values]
        bad = [(v, why) for v, why in bad if why]
        if not bad:
            continue
        if kind not in _BATCH or len(bad) == len(values) or not isinstance(value, list):
            for v, why in bad[:-1]:
                error(f"{v}: {why}")
            v, why = bad[-1]
            raise PathError(f"{v}: {why}")
        for v, why in bad:
            error(f"{v}: {why}")
        dropped += len(bad)
        keep = {id(v) for v, _ in bad}
        setattr(args, dest, [v for v in values if id(v) not in keep])
    return dropped


def _looks_like_path(value: str, kind: str) -> bool:
    if kind not in _NAMED:
        return True
    suffix = Path(value).suffix.lower()
    return os.sep in value or suffix in _WEIGHT_SUFFIXES | IMAGE_SUFFIXES or Path(value).exists()


def _has_images(folder: Path, recursive: bool) -> bool:
    files = folder.rglob("*") if recursive else folder.iterdir()
    return any(f.suffix.lower() in IMAGE_SUFFIXES and f.is_file() for f in files)


def input_problem(value: str, kind: str, recursive: bool = False) -> str | None:
    """Why ``value`` cannot be read as an input of ``kind``; None when it can."""
    if not _looks_like_path(value, kind):
        return None  # a name (a dataset, a released model): the command resolves it
    if any(ch in value for ch in "*?[") and not Path(value).exists():
        return None if glob.glob(value, recursive=recursive) else "the pattern matches no file"
    path = Path(value)
    try:
        st = path.stat()
    except FileNotFoundError:
        return "no such file or folder"
    except OSError as exc:
        return (exc.strerror or str(exc)).lower()
    try:
        if stat.S_ISDIR(st.st_mode):
            if kind in ("image", "file"):
                return "is a folder, not a file"
            if kind == "runs":
                marker = "generator.safetensors"
                if not find_runs(path, marker):
                    return f"holds no {marker}, in it or one folder down (not a pix2pix run)"
                return None
            if kind == "db" and not (path / "catalogue.sqlite").is_file():
                return "is not a tiny-images database (no catalogue.sqlite; see 'match build')"
            if kind in ("images", "photos", "folder", "dataset"):
                deep = recursive or kind != "images"
                if not _has_images(path, deep):
                    where = "in or below it" if deep else "in it"
                    return f"is a folder with no image files {where}"
            else:
                os.listdir(path)
            return None
        if not stat.S_ISREG(st.st_mode):
            return "is not a regular file (a device, pipe or socket)"
        if kind in ("folder", "db", "runs"):
            return "is a file, not a folder"
        with open(path, "rb") as f:
            f.read(1)
    except OSError as exc:
        return (exc.strerror or str(exc)).lower()
    return None


def output_problem(path: Path, kind: str) -> str | None:
    """Why nothing can be written at ``path`` as an output of ``kind``; None when it can."""
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        st = None
    except OSError as exc:
        return (exc.strerror or str(exc)).lower()
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            if kind == "file":
                return "is a folder; expected a file name"
        elif not stat.S_ISREG(st.st_mode):
            return "exists and is not a regular file (a device, pipe or socket)"
        elif kind == "folder":
            return "is a file, not a folder"
    folder = path if st is not None and stat.S_ISDIR(st.st_mode) else path.parent
    folder = Path(os.path.abspath(folder))
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    if not folder.is_dir():
        return f"cannot be created: {folder} is a file, not a folder"
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        reason = exc.strerror or os.strerror(exc.errno or errno.EACCES)
        return f"cannot write in {folder} ({reason.lower()})"
    return None
