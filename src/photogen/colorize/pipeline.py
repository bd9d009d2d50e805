"""Colorizing photos of any size, and loading a colorizer by name or file.

The network sees L at ``size`` x ``size`` (256, as the released models); its ab is upsampled
to the photo's resolution and recombined with the photo's own full-resolution L, so detail and
brightness are the original's and only the colour comes from the network.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from photogen.core.color import lab_to_rgb, rgb_to_lab
from photogen.core.weights import WeightsEntry, register

MODELS = ("lite", "eccv16", "siggraph17")
_DATA = Path(__file__).resolve().parent.parent / "data"
LITE_FILE = "colorize-lite.safetensors"


def _locate_lite() -> str:
    path = _DATA / LITE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing")
    return str(path)


register(
    WeightsEntry(
        name="colorize-lite",
        filename=LITE_FILE,
        url=None,
        sha256="",
        description="photogen's own lite colorizer, trained offline (ships with photogen)",
        locate=_locate_lite,
        hint="it ships inside the photogen package; reinstall photogen",
    )
)


def _arch_of(state: dict[str, torch.Tensor]) -> str:
    if "model1short10.0.weight" in state:
        return "siggraph17"
    if "model_out.weight" in state:
        return "eccv16"
    if "stem.weight" in state and "head.weight" in state:
        return "lite"
    raise ValueError("the weights match none of lite, eccv16, siggraph17")


def load_model(spec: str | os.PathLike = "lite", temperature: float = 0.38) -> nn.Module:
    """A colorizer in eval mode from a name (``lite``, ``eccv16``, ``siggraph17``), a weights
    file (ours: ``.safetensors``; the released ``.pth``: loaded with ``weights_only=True``), or
    a training run folder (its ``model.safetensors``)."""
    from photogen.colorize.lite import LiteColorizer
    from photogen.colorize.models import ECCV16, SIGGRAPH17
    from photogen.core.weights import load_state_dict, resolve

    spec = str(spec)
    if spec in MODELS:
        path = resolve("colorize-lite" if spec == "lite" else spec)
    else:
        path = Path(spec)
        if path.is_dir():
            path = path / "model.safetensors"
        if not path.exists():
            raise ValueError(
                f"--model {spec}: no such model name or file (names: {', '.join(MODELS)})"
            )
    state = load_state_dict(path)
    arch = _arch_of(state)
    model = {"lite": LiteColorizer, "eccv16": ECCV16, "siggraph17": SIGGRAPH17}[arch]()
    model.load_state_dict(state, strict=True)
    if arch != "siggraph17":
        model.temperature = temperature
    model.arch = arch
    return model.eval()


@torch.no_grad()
def predict_ab(
    model: nn.Module,
    l_channel: torch.Tensor,
    size: int = 256,
    hints: tuple[torch.Tensor, torch.Tensor] | None = None,
    autocast: torch.dtype | None = None,
) -> torch.Tensor:
    """ab ``(B, 2, H, W)`` for L ``(B, 1, H, W)`` in [0, 100], the network run at ``size``."""
    h, w = l_channel.shape[-2:]
    small = F.interpolate(
        l_channel, size=(size, size), mode="bilinear", antialias=True, align_corners=False
    )
    kwargs = {}
    if hints is not None:
        ab, mask = hints
        kwargs = {
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


@torch.no_grad()
def colorize_tensor(
    model: nn.Module,
    rgb: torch.Tensor,
    size: int = 256,
    device: torch.device | None = None,
    hints: tuple[torch.Tensor, torch.Tensor] | None = None,
    autocast: torch.dtype | None = None,
) -> torch.Tensor:
    """Colorize sRGB ``(B, 3, H, W)`` in [0, 1] (colour or grey; only its L is used).

    Returns:
        sRGB ``(B, 3, H, W)``: the input's L with the predicted ab.
    """
    device = device or next(model.parameters()).device
    model = model.to(device)
    lab = rgb_to_lab(rgb.to(device))
    l_channel = lab[:, :1]
    ab = predict_ab(model, l_channel, size, hints, autocast)
    return lab_to_rgb(torch.cat([l_channel, ab], dim=1)).cpu()
