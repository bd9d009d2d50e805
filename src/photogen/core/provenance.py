"""How an image was made, in the PNG itself: a ``photogen`` text chunk holding JSON (as
AUTOMATIC1111's ``parameters`` and ComfyUI's ``prompt``). The CLI records its command line
(:func:`set_provenance`, read back by ``photogen rerun``); the studio records the tab, its
fields and the inputs' sha256 (``Studio.settings``). :func:`photogen.core.image.save_image`
and :func:`photogen.core.image.encode_png` write it."""

from __future__ import annotations

import io
import json
import os

from PIL import Image
from PIL.PngImagePlugin import PngInfo

SETTINGS_KEY = "photogen"  # the PNG text chunk holding how an image was made
_provenance: dict | None = None


def set_provenance(settings: dict | None) -> None:
    """What every PNG written from now on records in its ``photogen`` text chunk (the CLI
    sets the command line, the version and the working folder; None: nothing)."""
    global _provenance
    _provenance = dict(settings) if settings is not None else None


def current() -> dict | None:
    """The provenance set by :func:`set_provenance` (None when unset)."""
    return _provenance


def png_info(settings: dict) -> PngInfo:
    """``settings`` as the PNG text chunk Pillow writes."""
    info = PngInfo()
    info.add_text(SETTINGS_KEY, json.dumps(settings, sort_keys=True))
    return info


def read_settings(path: str | os.PathLike | bytes) -> dict | None:
    """The settings a photogen PNG (a path, or its bytes) carries, or None; a chunk that is
    not a JSON object counts as none."""
    with Image.open(io.BytesIO(path) if isinstance(path, bytes) else path) as img:
        text = getattr(img, "text", {}).get(SETTINGS_KEY)
    try:
        settings = json.loads(text) if text else None
    except ValueError:
        return None
    return settings if isinstance(settings, dict) else None
