"""The fast style networks that ship with photogen (trained here; model cards in
docs/models/): a name -> the file in the package, and their entries in the weights registry."""

from __future__ import annotations

from pathlib import Path

from photogen.core.weights import WeightsEntry

_DATA = Path(__file__).resolve().parent.parent / "data"
# name -> (file, sha256, what it is)
BUNDLED: dict[str, tuple[str, str, str]] = {
    "starry": (
        "faststyle-starry.safetensors",
        "1ea0e4dbbe8f797f712b08d5ac1cb0c6c2d1b03c9cc951d3123fdbaf3cbb1601",
        "fast style network: van Gogh's Starry Night (docs/models/faststyle-starry.md)",
    ),
    "pastel": (
        "faststyle-pastel.safetensors",
        "aa6d3fc8d8aa91a4e0cd24d3e38cd948e204c6c69db2ee3c4a8ad3735c255e2d",
        "fast style network: GIMP's 'pastel' swirls (docs/models/faststyle-pastel.md)",
    ),
}


def bundled_path(name: str) -> Path:
    """The bundled model ``name``'s file (raises ValueError when photogen ships none)."""
    if name not in BUNDLED:
        raise ValueError(f"no bundled style model {name!r}; there are {', '.join(BUNDLED)}")
    path = _DATA / BUNDLED[name][0]
    if not path.is_file():
        raise ValueError(f"{path} is missing: reinstall photogen")
    return path


def _locate(name: str):
    return lambda: str(bundled_path(name))


# the weights this module defines (read by core.weights.ENTRY_MODULES)
WEIGHTS = tuple(
    WeightsEntry(
        name=f"faststyle-{name}",
        filename=file,
        url=None,
        sha256=digest,
        description=what,
        locate=_locate(name),
        hint="it ships inside the photogen package; reinstall photogen",
    )  # fmt: skip
    for name, (file, digest, what) in BUNDLED.items()
)
