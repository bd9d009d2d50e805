"""``--precision auto|fp32|bf16``: float32 is the reference; bfloat16 (autocast on PyTorch,
the inference precision hint on OpenVINO) where the machine has native bf16 units (CPUs with
AVX512-BF16 or AMX, GPUs) and the result stays within a stated tolerance of float32.

``auto`` decides once, on the first input, without timing (the same input on the same machine
gives the same choice, so the same seed still gives the same picture): bfloat16 when the
device has native bf16 and the first output differs from float32's by at most
:data:`TOLERANCE` (mean absolute difference, 0-1 scale), else float32. What bfloat16 buys on
each method is measured by its benchmark (e.g. colorize 1.95x, pix2pix training 1.67x on a
Zen 4 CPU), which prints the CPU flags and both timings."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import torch

from photogen.core.device import cpu_flags, cpu_has_bf16

PRECISIONS = ("auto", "fp32", "bf16")
TOLERANCE = 2.0 / 255  # mean absolute difference from float32 that auto accepts (8-bit levels)
BF16_ENGINES = ("torch", "openvino")  # ONNX Runtime's CPU provider runs float32 here


def native_bf16(device: torch.device | str) -> bool:
    """True where bfloat16 arithmetic runs on native units (so it can pay)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_has_bf16()


def check_precision(precision: str, engine: str = "torch") -> None:
    """ValueError for an unknown precision or bfloat16 asked of an engine without it."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "bf16" and engine not in BF16_ENGINES:
        raise ValueError(f"the {engine} engine runs float32 only; bf16 needs "
                         f"{' or '.join(BF16_ENGINES)}")  # fmt: skip


def autocast(precision: str, device: torch.device | str):
    """The autocast context for a forward pass at ``precision`` (fp32: none)."""
    device = torch.device(device)
    if precision != "bf16":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


@dataclass
class Choice:
    precision: str  # "fp32" or "bf16"
    line: str  # what was chosen and why, for the user
    difference: float | None = None  # auto's measured difference from float32


def choose(requested: str, device: torch.device | str,
           probe: Callable[[str], torch.Tensor] | None = None, engine: str = "torch",
           tolerance: float = TOLERANCE, fp32_because: str = "") -> Choice:  # fmt: skip
    """Resolve ``requested`` to fp32 or bf16. ``probe(precision)`` computes the first input's
    output (in [0, 1]) at that precision; auto compares the two. ``fp32_because``: auto is
    float32 for this method, for that reason (an optimisation measured slower or worse)."""
    check_precision(requested, engine)
    device = torch.device(device)
    where = f"{device.type}" + (f" ({cpu_flags()})" if device.type == "cpu" else "")
    if requested == "fp32":
        return Choice("fp32", "precision fp32")
    if requested == "bf16":
        slow = "" if native_bf16(device) else ": no native bf16 here, emulated (slower)"
        return Choice("bf16", f"precision bf16{slow}")
    if fp32_because:
        return Choice("fp32", f"precision auto -> fp32: {fp32_because}")
    if engine not in BF16_ENGINES:
        return Choice("fp32", f"precision auto -> fp32: the {engine} engine runs float32 only")
    if not native_bf16(device):
        return Choice("fp32", f"precision auto -> fp32: no native bf16 on {where}")
    if probe is None:
        return Choice("fp32", "precision auto -> fp32: no input to compare the two on")
    with torch.inference_mode():
        ref = probe("fp32").float()
        low = probe("bf16").float()
    diff = float((ref - low).abs().mean()) if ref.shape == low.shape else float("inf")
    verdict = "within" if diff <= tolerance else "beyond"
    chosen = "bf16" if diff <= tolerance else "fp32"
    return Choice(chosen, f"precision auto -> {chosen}: native bf16 on {where}; on the first "
                  f"input bf16 differs from fp32 by {diff * 255:.2f}/255 (mean), {verdict} "
                  f"the tolerance {tolerance * 255:.0f}/255", diff)  # fmt: skip
