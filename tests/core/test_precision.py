"""--precision: what auto chooses and why, engines at bf16, the CLI applying the choice."""

from __future__ import annotations

import pytest
import torch

from photogen.core import precision as P


def _probe(diff: float):
    """A probe whose bf16 result differs from fp32's by ``diff`` (mean, 0-1 scale)."""
    seen = []

    def probe(p: str) -> torch.Tensor:
        seen.append(p)
        return torch.full((1, 3, 4, 4), 0.5 + (diff if p == "bf16" else 0.0))

    probe.seen = seen
    return probe


def test_auto_takes_bf16_only_with_native_units_and_within_the_tolerance(monkeypatch):
    monkeypatch.setattr(P, "native_bf16", lambda device: True)
    within = P.choose("auto", "cpu", _probe(1.9 / 255))
    assert within.precision == "bf16" and "1.90/255" in within.line and "within" in within.line
    beyond = P.choose("auto", "cpu", _probe(2.1 / 255))
    assert beyond.precision == "fp32" and "beyond" in beyond.line
    assert P.choose("auto", "cpu", None).precision == "fp32"  # nothing to compare
    because = P.choose("auto", "cpu", _probe(0.0), fp32_because="measured slower")
    assert because.precision == "fp32" and because.line.endswith("measured slower")
    assert P.choose("auto", "cpu", _probe(0.0), engine="onnxruntime").precision == "fp32"
    monkeypatch.setattr(P, "native_bf16", lambda device: False)
    probe = _probe(0.0)
    none = P.choose("auto", "cpu", probe)
    assert none.precision == "fp32" and "no native bf16" in none.line and probe.seen == []


def test_asked_precisions_are_kept_and_bad_ones_refused(monkeypatch):
    monkeypatch.setattr(P, "native_bf16", lambda device: False)
    assert P.choose("fp32", "cpu", _probe(1.0)).precision == "fp32"
    emulated = P.choose("bf16", "cpu", _probe(1.0))
    assert emulated.precision == "bf16" and "emulated" in emulated.line
    with pytest.raises(ValueError, match="runs float32 only"):
        P.choose("bf16", "cpu", engine="onnxruntime")
    with pytest.raises(ValueError, match="precision must be one of"):
        P.choose("half", "cpu")


@pytest.mark.parametrize("engine", ["torch", "openvino"])
def test_an_engine_at_bf16_stays_close_to_fp32(engine):
    """bf16 on PyTorch is autocast (its output differs from fp32's, so it was applied); on
    OpenVINO the inference precision hint (applied only where the CPU has bf16 units)."""
    from photogen.core.engines import compile_module

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(),
                              torch.nn.Conv2d(16, 3, 3, padding=1), torch.nn.Sigmoid())  # fmt: skip
    x = torch.rand(1, 3, 32, 32)
    ref = compile_module(net, x, engine)(x)
    low = compile_module(net, x, engine, precision="bf16")(x)
    assert low.dtype == torch.float32 and (low - ref).abs().max() < 0.02
    if engine == "torch" or P.native_bf16("cpu"):
        assert (low - ref).abs().max() > 0
    with pytest.raises(ValueError, match="resolve precision auto"):
        compile_module(net, x, engine, precision="auto")
