"""Loading pix2pix generators: released ``latest_net_G.pth`` files, our safetensors, run folders.

The architecture is read off the ``state_dict`` (U-Net depth, ResNet blocks, ngf, channels,
batch/instance/no norm), so a checkpoint never fails because a train-time flag was not
repeated at test time, the most common complaint about the reference code. Checkpoints saved
by old PyTorch (no ``num_batches_tracked``) or through ``DataParallel`` (``module.`` prefix)
load too.

The authors publish no hashes for their released generators; their registry entries check the
file's structure instead (a unet_256, batch norm, 3 -> 3 channels) and pin the sha256 of the
first verified copy (see :class:`photogen.core.weights.WeightsEntry`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from photogen.core.weights import (
    REGISTRY,
    WeightsEntry,
    WeightsError,
    load_state_dict,
)
from photogen.pix2pix.networks import define_G

RELEASED_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/models-pytorch/{}.pth"
# name -> (what it maps, the dataset direction it was trained with)
RELEASED = {
    "edges2shoes": ("edge map -> shoe photo", "AtoB"),
    "sat2map": ("satellite photo -> map", "AtoB"),
    "map2sat": ("map -> satellite photo", "BtoA"),
    "facades_label2photo": ("facade label map -> facade photo", "BtoA"),
    "day2night": ("daytime photo -> night photo", "AtoB"),
}


@dataclass(frozen=True)
class GeneratorSpec:
    """What :func:`infer_spec` reads off a state dict."""

    netG: str
    input_nc: int
    output_nc: int
    ngf: int
    norm: str

    def build(self, use_dropout: bool = True) -> nn.Module:
        return define_G(self.netG, self.input_nc, self.output_nc, self.ngf, self.norm, use_dropout)


def clean_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Strip ``module.`` prefixes; drop ``metadata``; keep tensors only."""
    out = {}
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            continue
        out[key.removeprefix("module.")] = value
    return out


def infer_spec(state: dict[str, torch.Tensor]) -> GeneratorSpec:
    """The generator architecture a state dict belongs to."""
    if "model.model.0.weight" in state:
        depth = max(k.split(".").count("model") - 1 for k in state if k.endswith(".weight"))
        netG = {8: "unet_256", 7: "unet_128"}.get(depth, f"unet_{2**depth}")
        first = state["model.model.0.weight"]
        output_nc = state["model.model.3.weight"].shape[1]
        down2 = "model.model.1.model.1"
    elif "model.1.weight" in state:
        blocks = {int(m.group(1)) for k in state if (m := re.match(r"model\.(\d+)\.conv_block", k))}
        netG = {9: "resnet_9blocks", 6: "resnet_6blocks"}.get(len(blocks), "")
        first = state["model.1.weight"]
        last = max(int(k.split(".")[1]) for k in state if re.match(r"model\.\d+\.weight", k))
        output_nc = state[f"model.{last}.weight"].shape[0]
        down2 = "model.4"
    else:
        raise WeightsError("not a pix2pix generator state dict (no model.model.0 or model.1 keys)")
    if not netG or netG not in ("unet_256", "unet_128", "resnet_9blocks", "resnet_6blocks"):
        raise WeightsError(f"unsupported generator layout (read as {netG or 'resnet'})")
    if any(k.endswith("running_mean") for k in state):
        norm = "batch"
    elif f"{down2}.bias" in state:
        norm = "instance"
    else:
        norm = "none"
    return GeneratorSpec(netG, int(first.shape[1]), int(output_nc), int(first.shape[0]), norm)


def _fill_batch_counters(model: nn.Module, state: dict[str, torch.Tensor]) -> dict:
    """Add the ``num_batches_tracked`` buffers that pre-0.4 PyTorch checkpoints lack."""
    state = dict(state)
    for key, value in model.state_dict().items():
        if key.endswith("num_batches_tracked") and key not in state:
            state[key] = torch.zeros_like(value)
    return state


def generator_from_state(
    state: dict[str, torch.Tensor], netG: str = "auto", norm: str = "auto"
) -> tuple[nn.Module, GeneratorSpec]:
    """Build the generator a state dict describes and load it (strict)."""
    state = clean_state_dict(state)
    spec = infer_spec(state)
    if netG not in ("auto", spec.netG) or norm not in ("auto", spec.norm):
        raise WeightsError(
            f"the weights are a {spec.netG} with {spec.norm} norm, not the {netG} / {norm} asked "
            "for (leave --netG/--norm out: they are read off the file)"
        )
    model = spec.build()
    try:
        model.load_state_dict(_fill_batch_counters(model, state))
    except RuntimeError as exc:
        raise WeightsError(
            f"weights do not fit a {spec.netG}: {str(exc).splitlines()[0]}"
        ) from None
    return model, spec


def load_generator(
    path: str | os.PathLike, netG: str = "auto", norm: str = "auto", eval_mode: bool = False
) -> nn.Module:
    """A pix2pix generator from a released name, a ``.pth``, our ``.safetensors`` or a run folder.

    Args:
        path: registry name (``edges2shoes``, ...), file, or a ``pix2pix train`` run folder.
        netG, norm: the architecture; ``auto`` reads it off the weights, anything else is
            checked against them.
        eval_mode: ``False`` (the paper and the reference's default) keeps dropout on and
            normalises with the test image's own statistics; ``True`` uses running statistics
            and no dropout (the reference's ``--eval``).
    """
    source = Path(str(path))
    if source.is_dir():
        source = source / "generator.safetensors"
        if not source.is_file():
            raise WeightsError(f"{path}: a folder without generator.safetensors (not a run?)")
    name = str(path)
    key = f"pix2pix_{name}" if name in RELEASED else name if name in REGISTRY else str(source)
    model, _ = generator_from_state(load_state_dict(key), netG, norm)
    model.train(not eval_mode)
    return model


def _verify_released(path: Path) -> None:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsError(f"{path.name}: not a loadable weights file ({exc})") from None
    model, spec = generator_from_state(state)
    if (spec.netG, spec.norm, spec.input_nc, spec.output_nc) != ("unet_256", "batch", 3, 3):
        raise WeightsError(f"{path.name}: expected a 3->3 unet_256 with batch norm, got {spec}")


# the weights this module defines (read by core.weights.ENTRY_MODULES)
WEIGHTS = tuple(
    WeightsEntry(
        name=f"pix2pix_{_name}",
        filename=f"pix2pix_{_name}.pth",
        url=RELEASED_URL.format(_name),
        sha256="",
        description=f"pix2pix {_what} (Isola et al. 2017, released unet_256; "
        f"dataset direction {_direction})",
        verify=_verify_released,
    )
    for _name, (_what, _direction) in RELEASED.items()
)
