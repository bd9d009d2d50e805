"""Colorizing photos of any size, and loading a colorizer by name or file.

The network sees L at ``size`` x ``size`` (256, as the released models); its ab is upsampled
to the photo's resolution and recombined with the photo's own full-resolution L, so detail and
brightness are the original's and only the colour comes from the network.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from photogen.core.color import lab_to_rgb, lightness
from photogen.core.weights import WeightsEntry

if TYPE_CHECKING:
    from photogen.colorize.propagate import ColourHints, PropagationConfig

MODELS = ("lite", "lite-hints", "eccv16", "siggraph17")
# The networks with a hint input (Zhang et al. 2017's layout and photogen's lite-hints): the
# one list the CLI, the studio and the video path read.
HINT_ARCHS = ("siggraph17", "lite-hints")
# ``auto``: the best colorizer installed, best first (the official ones need a download).
AUTO_ORDER = ("siggraph17", "eccv16", "lite")
_DATA = Path(__file__).resolve().parent.parent / "data"
LITE_FILE = "colorize-lite.safetensors"
HINTS_FILE = "colorize-lite-hints.safetensors"


def _locate(filename: str) -> Callable[[], str]:
    def locate() -> str:
        path = _DATA / filename
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing")
        return str(path)

    return locate


COLORIZE_LITE_WEIGHTS = WeightsEntry(
    name="colorize-lite",
    filename=LITE_FILE,
    url=None,
    sha256="ca74fba18a5091e1723a2e1c87830448dcdec7cb2f36901b88a1a4116367cad3",
    description="photogen's own lite colorizer, trained offline (ships with photogen)",
    locate=_locate(LITE_FILE),
    hint="it ships inside the photogen package; reinstall photogen",
)
COLORIZE_LITE_HINTS_WEIGHTS = WeightsEntry(
    name="colorize-lite-hints",
    filename=HINTS_FILE,
    url=None,
    sha256="2352c44f33102e571991fdc00d6d97c7e84bf69d55c7de4766b51cbb107f70c0",
    description="photogen's user-guided lite colorizer (colour hints), trained offline",
    locate=_locate(HINTS_FILE),
    hint="it ships inside the photogen package; reinstall photogen",
)


def _arch_of(state: dict[str, torch.Tensor]) -> str:
    if "model1short10.0.weight" in state:
        return "siggraph17"
    if "model_out.weight" in state:
        return "eccv16"
    if "stem.weight" in state and "head.weight" in state:
        return "lite-hints" if any(k.startswith("hint_") for k in state) else "lite"
    raise ValueError("the weights match none of lite, lite-hints, eccv16, siggraph17")


def installed_models() -> list[str]:
    """The model names usable without a download, in :data:`MODELS` order."""
    from photogen.core.weights import WeightsError, resolve

    found = []
    for name in MODELS:
        try:
            resolve(_registry_name(name), allow_download=False)
        except (WeightsError, OSError):
            continue
        found.append(name)
    return found


def choose_auto() -> tuple[str, str]:
    """``(name, one line for the user)``: the best colorizer installed (siggraph17, then
    eccv16, then the bundled lite), and what to fetch for a better one."""
    have = installed_models()
    name = next((n for n in AUTO_ORDER if n in have), "lite")
    line = f"colorizer: {name} (the best installed)"
    if name == "lite":
        line = ("colorizer: lite (bundled); for better colours fetch the official model once: "
                "photogen weights fetch siggraph17")  # fmt: skip
    return name, line


def _registry_name(name: str) -> str:
    return f"colorize-{name}" if name.startswith("lite") else name


def takes_hints(model: nn.Module) -> bool:
    """Whether ``model`` has a hint input (:data:`HINT_ARCHS`)."""
    return getattr(model, "arch", "") in HINT_ARCHS


def load_model(spec: str | os.PathLike = "lite", temperature: float = 0.38) -> nn.Module:
    """A colorizer in eval mode from a name (``auto``, ``lite``, ``lite-hints``, ``eccv16``,
    ``siggraph17``), a weights file (ours: ``.safetensors``; the released ``.pth``: loaded with
    ``weights_only=True``), or a training run folder (its ``model.safetensors``). ``auto`` is
    :func:`choose_auto`'s choice; the model's ``name`` attribute says which was loaded."""
    from photogen.colorize.lite import LiteColorizer
    from photogen.colorize.models import ECCV16, SIGGRAPH17
    from photogen.core.weights import load_state_dict, resolve

    spec = str(spec)
    if spec == "auto":
        spec = choose_auto()[0]
    if spec in MODELS:
        path = resolve(_registry_name(spec))
    else:
        path = Path(spec)
        if path.is_dir():
            path = path / "model.safetensors"
        if not path.exists():
            raise ValueError(
                f"{spec}: no such colorizer name or file (names: auto, {', '.join(MODELS)})"
            )
    state = load_state_dict(path)
    arch = _arch_of(state)
    builders = {"lite": LiteColorizer, "lite-hints": lambda: LiteColorizer(hints=True),
                "eccv16": ECCV16, "siggraph17": SIGGRAPH17}  # fmt: skip
    model = builders[arch]()
    model.load_state_dict(state, strict=True)
    if arch != "siggraph17":
        model.temperature = temperature
    model.arch = arch
    model.name = spec if spec in MODELS else arch
    # channels_last: oneDNN's preferred layout, ~10% faster for eccv16's 3x3 convs on a CPU
    return model.eval().to(memory_format=torch.channels_last)


@torch.inference_mode()
def predict_ab(
    model: nn.Module,
    l_channel: torch.Tensor,
    size: int = 256,
    hints: tuple[torch.Tensor, torch.Tensor] | None = None,
    autocast: torch.dtype | None = None,
    temperature: float | None = None,
) -> torch.Tensor:
    """ab ``(B, 2, H, W)`` for L ``(B, 1, H, W)`` in [0, 100], the network run at ``size``;
    ``temperature`` for this call (annealed-mean models; the model's own when None)."""
    h, w = l_channel.shape[-2:]
    small = l_channel
    if (h, w) != (size, size):
        small = F.interpolate(
            l_channel, size=(size, size), mode="bilinear", antialias=True, align_corners=False
        )
    small = small.contiguous(memory_format=torch.channels_last)
    kwargs = {}
    if temperature is not None and getattr(model, "temperature", None) is not None:
        kwargs["temperature"] = float(temperature)
    if hints is not None:
        ab, mask = hints
        kwargs |= {
            "hints_ab": F.interpolate(ab, size=(size, size), mode="nearest"),
            "hints_mask": F.interpolate(mask, size=(size, size), mode="nearest"),
        }
    device_type = l_channel.device.type
    with torch.autocast(device_type, dtype=autocast or torch.float32, enabled=autocast is not None):
        ab = model(small, **kwargs)
    ab = ab.float()
    if (h, w) != (size, size):
        ab = F.interpolate(ab, size=(h, w), mode="bilinear", align_corners=False)
    return ab


def network_hints(hints: ColourHints, height: int, width: int, size: int = 256,
                  radius: int = 2) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """A hint-taking network's hint input at ``size`` x ``size`` (ab, mask) for a photo of
    ``height`` x ``width``: each point a ``(2 radius + 1)``-pixel patch (the paper's hints),
    each stroke the network pixels it touches."""
    from photogen.colorize.propagate import rasterize

    return rasterize(hints, size, size, height, width, radius)


@torch.inference_mode()
def guided_ab(
    model: nn.Module,
    l_channel: torch.Tensor,
    hints: ColourHints | None,
    size: int = 256,
    auto_ab: torch.Tensor | None = None,
    autocast: torch.dtype | None = None,
    config: PropagationConfig | None = None,
    temperature: float | None = None,
) -> torch.Tensor:
    """ab ``(1, 2, H, W)`` for L ``(1, 1, H, W)``: the network's automatic colours, and the
    user's hints propagated into their regions (:mod:`photogen.colorize.propagate`); a
    hint-taking network also receives the hints. ``auto_ab``: the automatic ab when already
    computed (the studio keeps it between clicks); ``temperature``: as :func:`predict_ab`."""
    from photogen.colorize.propagate import PropagationConfig, propagate

    if auto_ab is None:
        auto_ab = predict_ab(model, l_channel, size, None, autocast, temperature)
    if not hints:
        return auto_ab
    hinted = None
    if takes_hints(model):
        h, w = l_channel.shape[-2:]
        ab, mask = network_hints(hints, h, w, size)
        device = l_channel.device
        hinted = predict_ab(model, l_channel, size, (ab.to(device), mask.to(device)), autocast,
                            temperature)  # fmt: skip
    return propagate(l_channel, auto_ab, hints, hinted, config or PropagationConfig())


@torch.inference_mode()
def colorize_tensor(
    model: nn.Module,
    rgb: torch.Tensor,
    size: int = 256,
    device: torch.device | None = None,
    hints: ColourHints | None = None,
    autocast: torch.dtype | None = None,
    auto_ab: torch.Tensor | None = None,
) -> torch.Tensor:
    """Colorize sRGB ``(B, 3, H, W)`` in [0, 1] (colour or grey; only its L is used), with
    optional colour hints (one photo, ``B = 1``) propagated into their regions.

    Returns:
        sRGB ``(B, 3, H, W)``: the input's L with the predicted ab.
    """
    device = device or next(model.parameters()).device
    model = model.to(device)
    l_channel = lightness(rgb.to(device))
    if hints:
        ab = guided_ab(model, l_channel, hints, size, auto_ab, autocast)
    else:
        ab = auto_ab if auto_ab is not None else predict_ab(model, l_channel, size, None, autocast)
    lab = torch.cat([l_channel, ab.to(l_channel)], dim=1)
    del l_channel, ab
    return lab_to_rgb(lab).cpu()


def colorize_files(
    model: nn.Module,
    paths: list[Path],
    outputs: list[Path],
    size: int = 256,
    device: torch.device | None = None,
    autocast: torch.dtype | None = None,
    hints_for: Callable[[torch.Tensor], ColourHints] | None = None,
    max_pixels: int | None = None,
    on_error: Callable[[Path, Exception], None] | None = None,
    on_done: Callable[[Path], None] | None = None,
    overlap: bool = True,
) -> int:
    """Colorize ``paths`` into ``outputs``; return how many failed (each reported, none fatal).

    With ``overlap`` a reader thread decodes up to two photos ahead and a writer thread encodes
    behind, so decoding and encoding (Pillow releases the GIL) run while the network does.
    """
    from photogen.core.image import DEFAULT_MAX_PIXELS, ImageError, read_image, save_image

    limit = max_pixels or DEFAULT_MAX_PIXELS
    report = on_error or (lambda path, exc: None)
    failed = 0

    def load(path: Path) -> torch.Tensor:
        return read_image(path, max_pixels=limit)

    reader = cf.ThreadPoolExecutor(1) if overlap else None
    writer = cf.ThreadPoolExecutor(1) if overlap else None
    try:
        ahead = 2 if overlap else 0
        pending: dict[int, cf.Future] = {}
        writes = []
        for i, (path, dest) in enumerate(zip(paths, outputs, strict=True)):
            for j in range(i, min(len(paths), i + ahead + 1)):
                if overlap and j not in pending:
                    pending[j] = reader.submit(load, paths[j])
            try:
                rgb = pending.pop(i).result() if overlap else load(path)
                hints = hints_for(rgb) if hints_for else None
                out = colorize_tensor(model, rgb, size, device, hints, autocast)
                if overlap:
                    writes.append((path, dest, writer.submit(save_image, out, dest)))
                else:
                    save_image(out, dest)
                    if on_done:
                        on_done(path)
            except (ImageError, ValueError, RuntimeError, OSError) as exc:
                failed += 1
                report(path, exc)
            if overlap and writes and writes[0][2].done():
                failed += _drain(writes, report, on_done, block=False)
        if overlap:
            failed += _drain(writes, report, on_done, block=True)
    finally:
        for pool in (reader, writer):
            if pool:
                pool.shutdown(wait=True)
    return failed


def _drain(writes: list, report, on_done, block: bool) -> int:
    failed = 0
    while writes and (block or writes[0][2].done()):
        path, dest, fut = writes.pop(0)
        try:
            fut.result()
        except (OSError, ValueError) as exc:
            failed += 1
            report(path, OSError(f"cannot write {dest}: {exc}"))
            continue
        if on_done:
            on_done(path)
    return failed


# the weights this module defines (read by core.weights.ENTRY_MODULES)
WEIGHTS = (
    COLORIZE_LITE_WEIGHTS,
    COLORIZE_LITE_HINTS_WEIGHTS,
)
