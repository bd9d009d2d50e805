"""Device, thread count and mixed-precision selection."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def select_device(name: str = "auto") -> torch.device:
    """Resolve ``auto|cpu|cuda|cuda:N|mps`` to a torch device; ``auto`` prefers CUDA, then MPS.

    Raises:
        ValueError: unknown name, or a device that this machine does not have.
    """
    name = (name or "auto").lower()
    if name == "auto":
        if torch.cuda.is_available():
            return reproducible_cuda(torch.device("cuda"))
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError("device cuda asked for, but no CUDA GPU is available here")
        return reproducible_cuda(torch.device(name))
    if name == "mps":
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise ValueError("device mps asked for, but Apple MPS is not available here")
        return torch.device("mps")
    if name == "cpu":
        return torch.device("cpu")
    raise ValueError(f"unknown device {name!r}; choose one of {', '.join(DEVICE_CHOICES)}")


def reproducible_cuda(device: torch.device) -> torch.device:
    """Same seed, same GPU -> same image: cuDNN's autotuner picks kernels by timing (a different
    summation order per run) and cuBLAS needs a fixed workspace to be deterministic. Measured on
    an H200 without this: two identical 1024 px style transfers ended 10% apart in loss."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    return device


def physical_cores() -> int:
    """Number of physical CPU cores available to this process (hyper-threads not counted)."""
    logical = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    logical = logical or 1
    try:
        cores = set()
        phys = core = None
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("physical id"):
                    phys = line.split(":")[1].strip()
                elif line.startswith("core id"):
                    core = line.split(":")[1].strip()
                elif not line.strip() and core is not None:
                    cores.add((phys, core))
                    phys = core = None
        if cores:
            return max(1, min(logical, len(cores)))
    except OSError:
        pass
    return logical


def set_threads(n: int | None = None) -> int:
    """Set torch's intra-op thread count (default: physical cores) and return it."""
    n = n or physical_cores()
    if n < 1:
        raise ValueError(f"threads must be >= 1, got {n}")
    torch.set_num_threads(n)
    return n


SIMD_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_tile")


def _flag_words() -> set[str] | None:
    """The words of /proc/cpuinfo's ``flags`` line, or None where it is unreadable."""
    try:
        with open("/proc/cpuinfo") as f:
            return set(next((ln for ln in f if ln.startswith("flags")), "").split())
    except OSError:
        return None


def cpu_flags() -> str:
    """The CPU's SIMD flags that decide which kernels run (for benchmarks to print), e.g.
    ``"avx2 fma avx512f avx512_bf16"``; ``"unknown"`` where /proc/cpuinfo is unreadable."""
    words = _flag_words()
    if words is None:
        return "unknown"
    found = " ".join(flag for flag in SIMD_FLAGS if flag in words)
    return found or "none of " + ",".join(SIMD_FLAGS)


def cpu_has_bf16() -> bool:
    """True when the CPU has native bf16 arithmetic (AVX512-BF16 or AMX), where autocast pays."""
    words = _flag_words() or set()
    return "avx512_bf16" in words or "amx_bf16" in words


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """The reduced precision worth using for forward passes on ``device``, or None."""
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "cpu" and cpu_has_bf16():
        return torch.bfloat16
    return None


def available_memory(device: torch.device) -> int:
    """Bytes of memory free for tensors on ``device`` (best effort)."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    from photogen.core.memory import proc_kib

    free = proc_kib("/proc/meminfo", "MemAvailable")
    return 8 * 1024**3 if free is None else free


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Run many tiny tensor ops on one thread (threads only add overhead there, and much of it
    on a loaded machine); the previous setting is restored."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
