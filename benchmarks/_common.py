"""Helpers for the benchmark scripts: peak-memory sampling, timing, images."""

from __future__ import annotations

import os
import statistics
import threading
import time
from contextlib import contextmanager

import torch

from photogen.core.samples import available_samples, load_sample


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@contextmanager
def measure():
    """Yield a dict that gets 'seconds' and 'peak_mb' (resident-set growth, sampled)."""
    out = {}
    base = rss_bytes()
    peak = [base]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_bytes())
            time.sleep(0.01)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    start = time.perf_counter()
    try:
        yield out
    finally:
        out["seconds"] = time.perf_counter() - start
        stop.set()
        t.join()
        out["peak_mb"] = (max(peak[0], rss_bytes()) - base) / 2**20


def median(values):
    return statistics.median(values)


def style_pair() -> tuple[torch.Tensor, torch.Tensor, str]:
    """Content and style images: chelsea + starry_night when opencv-doc is installed, else ihc.

    Chelsea is cropped to 5:8 (451x282), so that 256 and 512 px give sides that are whole
    multiples of the networks' stride (160x256, 320x512): at other sizes photogen optimises a
    padded canvas (no edge artefacts) and the reference the odd size itself, and the loss of
    one is not the other's objective."""
    style = "starry_night" if "starry_night" in available_samples() else "ihc"
    content = load_sample("chelsea")
    h, w = content.shape[-2:]
    keep = round(w * 5 / 8)
    content = content[..., (h - keep) // 2 : (h - keep) // 2 + keep, :]
    return content, load_sample(style), f"chelsea (5:8 crop) + {style}"


def report(label: str, ours: float, ref: float, extra: str = "") -> None:
    print(
        f"{label}: photogen: {ours:.2f} s, reference: {ref:.2f} s, ratio: {ref / ours:.2f}{extra}"
    )


# ---- the physical limit: what this machine can do at most, measured in the same run --------

_PEAK: dict = {}


def peak() -> dict:
    """This machine's peak, measured once per process: float32 (and bfloat16 where the CPU has
    native bf16) GFLOP/s of a large matrix product, and GB/s of a large copy (bytes read +
    written), with the CPU flags and threads they ran with."""
    from photogen.core.device import cpu_flags, cpu_has_bf16

    if _PEAK:
        return _PEAK
    n = 2048
    dtypes = [torch.float32] + ([torch.bfloat16] if cpu_has_bf16() else [])
    for dtype in dtypes:
        a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
        a @ b  # warm-up (packing, AMX tile configuration)
        best = min(_timed(lambda a=a, b=b: a @ b) for _ in range(5))
        _PEAK[str(dtype).split(".")[1]] = 2 * n**3 / best / 1e9
    src = torch.empty(64 * 2**20, dtype=torch.float32)  # 256 MiB: past every cache
    dst = torch.empty_like(src)
    dst.copy_(src)
    best = min(_timed(lambda: dst.copy_(src)) for _ in range(5))
    _PEAK["copy_gbps"] = 2 * src.numel() * 4 / best / 1e9
    _PEAK["flags"], _PEAK["threads"] = cpu_flags(), torch.get_num_threads()
    return _PEAK


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def conv_flops(module: torch.nn.Module, *inputs) -> int:
    """Floating-point operations (2 x multiply-adds) of the convolutions and linear layers of
    one forward pass of ``module`` on ``inputs`` (the arithmetic that bounds a network)."""
    total = [0]

    def hook(m, args, out):
        if isinstance(m, torch.nn.Conv2d | torch.nn.ConvTranspose2d):
            x = args[0] if isinstance(m, torch.nn.ConvTranspose2d) else out
            k = m.kernel_size[0] * m.kernel_size[1] * (m.in_channels // m.groups)
            if isinstance(m, torch.nn.ConvTranspose2d):  # every input pixel, every out channel
                total[0] += 2 * x.numel() // x.shape[1] * m.out_channels * k
            else:
                total[0] += 2 * out.numel() * k
        elif isinstance(m, torch.nn.Linear):
            total[0] += 2 * out.numel() * m.in_features

    kinds = (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear)
    hooks = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, kinds)]
    try:
        with torch.no_grad():
            module(*inputs)
    finally:
        for h in hooks:
            h.remove()
    return total[0]


def against_peak(label: str, flops: float, seconds: float, dtype: str = "float32") -> str:
    """``label: X GFLOP/s = Y% of this machine's DTYPE peak (P GFLOP/s, a 2048^3 matmul here)``,
    printed and returned; the CPU flags and threads are printed once with the peak."""
    p = peak()
    if dtype not in p:
        dtype = "float32"
    rate = flops / seconds / 1e9
    line = (f"{label}: {rate:.1f} GFLOP/s = {100 * rate / p[dtype]:.0f}% of this machine's "
            f"{dtype} peak ({p[dtype]:.0f} GFLOP/s, a 2048^3 matmul in this run)")  # fmt: skip
    print(line)
    return line


def print_peak() -> None:
    p = peak()
    rates = ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in p.items() if k in ("float32", "bfloat16"))
    print(
        f"this machine: {rates} (2048^3 matmul), copy {p['copy_gbps']:.1f} GB/s (256 MiB); "
        f"{p['threads']} threads; CPU flags: {p['flags']}"
    )


def profiled_flops(fn, *args):
    """``(result, flops)``: ``fn(*args)`` run once under PyTorch's profiler, with the floating
    point operations it counts (matrix products and convolutions: what bounds these methods;
    element-wise work is not counted, so the share of peak is a lower bound)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
        out = fn(*args)
    return out, sum(e.flops for e in prof.key_averages() if e.flops)
