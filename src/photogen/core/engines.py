"""Inference engines for fixed-shape networks: PyTorch eager, ONNX Runtime, OpenVINO.

``compile_module(module, example, engine)`` returns a function ``x -> y`` for inputs of the
example's shape. ONNX Runtime runs the module exported to ONNX in memory; OpenVINO converts
the module itself (``openvino.convert_model``) and compiles it for the CPU with the latency
hint. Both keep float32 (this CPU has no bf16 units). Each engine's output is checked against
eager in the tests (1e-4) and timed against it in ``benchmarks/video.py``.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Callable

import torch
from torch import nn

ENGINES = ("torch", "onnxruntime", "openvino")


def _missing(engine: str, package: str) -> RuntimeError:
    return RuntimeError(f"the {engine} engine needs the {package} package: pip install {package}")


def onnx_bytes(module: nn.Module, example: torch.Tensor, dynamic_batch: bool = False) -> bytes:
    """``module`` exported to ONNX (opset 17, ``input`` -> ``output``) for inputs shaped like
    ``example``; ``dynamic_batch``: any batch size (the exported files users keep)."""
    buf = io.BytesIO()
    axes = {"input": {0: "batch"}, "output": {0: "batch"}} if dynamic_batch else None
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (example,), buf, input_names=["input"],
                          output_names=["output"], dynamic_axes=axes, opset_version=17,
                          dynamo=False)  # fmt: skip
    return buf.getvalue()


Runner = Callable[[torch.Tensor], torch.Tensor]


def compile_module(module: nn.Module, example: torch.Tensor, engine: str = "torch",
                   threads: int | None = None, precision: str = "fp32") -> Runner:  # fmt: skip
    """A function running ``module`` (eval mode, on the CPU for the exported engines) on
    inputs shaped like ``example`` with ``engine``; ``threads`` defaults to PyTorch's.
    ``precision`` fp32 or bf16 (:mod:`photogen.core.precision`: autocast on PyTorch, the
    inference precision on OpenVINO; ONNX Runtime runs float32 only)."""
    from photogen.core.precision import autocast, check_precision

    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if precision == "auto":
        raise ValueError("resolve precision auto first (photogen.core.precision.choose)")
    check_precision(precision, engine)
    module = module.eval()
    threads = threads or torch.get_num_threads()
    if engine == "torch":
        device = example.device

        def run_torch(x: torch.Tensor) -> torch.Tensor:
            with torch.inference_mode(), autocast(precision, device):
                return module(x).float()

        return run_torch
    module = module.cpu().float()
    example = example.cpu().float()
    if engine == "onnxruntime":
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise _missing(engine, "onnxruntime") from e
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(onnx_bytes(module, example), options,
                                       providers=["CPUExecutionProvider"])  # fmt: skip

        def run_ort(x: torch.Tensor) -> torch.Tensor:
            (y,) = session.run(["output"], {"input": x.detach().cpu().float().contiguous().numpy()})
            return torch.from_numpy(y)

        return run_ort
    try:
        import openvino as ov
    except ImportError as e:
        raise _missing(engine, "openvino") from e
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ov.convert_model(module, example_input=example)
    compiled = ov.Core().compile_model(model, "CPU", {
        "PERFORMANCE_HINT": "LATENCY",
        "INFERENCE_NUM_THREADS": threads,
        "INFERENCE_PRECISION_HINT": "bf16" if precision == "bf16" else "f32",
    })  # fmt: skip
    local = threading.local()  # an infer request holds its tensors: one per calling thread

    def run_ov(x: torch.Tensor) -> torch.Tensor:
        request = local.__dict__.get("request")
        if request is None:
            request = local.request = compiled.create_infer_request()
        request.infer({0: x.detach().cpu().float().contiguous().numpy()})
        return torch.from_numpy(request.get_output_tensor(0).data.copy())

    return run_ov
