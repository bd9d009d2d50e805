"""ONNX export of a pix2pix generator (``photogen pix2pix export``).

The paper tests with batch norm on the image's own statistics. An exported graph would
otherwise freeze batch norm to its running statistics, which is not how the released models
were meant to run (their outputs degrade badly), so by default each ``BatchNorm2d`` is
exported as per-image normalisation with the learnt scale and shift: exactly what batch norm
computes on a batch of one, applied to every image of a batch independently. ``eval_mode=True``
exports the running statistics instead. Dropout is not exported (ONNX runtimes treat it as the
identity): the graph is deterministic.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import torch
from torch import nn

from photogen.core.atomic import write_bytes_atomic
from photogen.core.engines import onnx_bytes


def _require(module: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise RuntimeError(f"ONNX export needs the {module} package: pip install 'photogen[onnx]'")


class PerImageBatchNorm(nn.Module):
    """What a train-mode ``BatchNorm2d`` computes for a batch of one, image by image."""

    def __init__(self, bn: nn.BatchNorm2d):
        super().__init__()
        self.weight = nn.Parameter(bn.weight.detach().clone()) if bn.affine else None
        self.bias = nn.Parameter(bn.bias.detach().clone()) if bn.affine else None
        self.eps = bn.eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=(2, 3), keepdim=True)
        var = ((x - mean) ** 2).mean(dim=(2, 3), keepdim=True)  # biased, as batch norm uses
        y = (x - mean) / torch.sqrt(var + self.eps)
        if self.weight is not None:
            y = y * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)
        return y


def exportable(G: nn.Module, eval_mode: bool = False) -> nn.Module:
    """A copy of ``G`` in eval mode whose batch norms behave as at test time (see module doc)."""
    model = copy.deepcopy(G).cpu().float().eval()
    if eval_mode:
        return model
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.BatchNorm2d):
                setattr(parent, name, PerImageBatchNorm(child))
    return model


def export_onnx(
    G: nn.Module, path: str | os.PathLike, size: int = 256, eval_mode: bool = False
) -> Path:
    """Write ``G`` as ONNX (input ``(N, C, size, size)`` in ``[-1, 1]``, dynamic batch)."""
    _require("onnx")
    model = exportable(G, eval_mode)
    in_ch = next(m for m in model.modules() if isinstance(m, nn.Conv2d)).in_channels
    example = torch.zeros(1, in_ch, size, size)
    write_bytes_atomic(path, onnx_bytes(model, example, dynamic_batch=True))
    return Path(path)


def onnx_predict(path: str | os.PathLike, x: torch.Tensor) -> torch.Tensor:
    """Run an exported model with onnxruntime (CPU)."""
    _require("onnxruntime")
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (out,) = session.run(["output"], {"input": x.detach().cpu().float().numpy()})
    return torch.from_numpy(out)
