"""Seeding and resumable, atomic checkpoints (model, optimizer, scheduler, step, RNG).

Checkpoints are our own files, written with ``torch.save`` of plain containers and read
back with ``torch.load(weights_only=True)``, so even they are never unpickled as code.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from photogen.core.atomic import atomic_path


class LeftoverRunError(FileExistsError):
    """An earlier run's work is there and resuming was not asked for (the caller says how to
    resume: the CLI adds "--resume")."""


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, numpy and torch; return a CPU ``torch.Generator`` seeded with ``seed``."""
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def rng_state() -> dict[str, Any]:
    """Every RNG state needed to continue a run exactly (tensors and plain values only)."""
    py = random.getstate()
    np_state = np.random.get_state()
    state = {
        "python": [py[0], list(py[1]), py[2]],
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    np_state = state["numpy"]
    np.random.set_state((np_state[0], np_state[1].numpy().astype(np.uint32), *np_state[2:]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: str | os.PathLike, **objects: Any) -> Path:
    """Atomically save modules/optimizers/schedulers (via ``state_dict``) and plain values.

    RNG state is always included, so that ``load_checkpoint`` continues a run exactly.
    """
    payload: dict[str, Any] = {"rng": rng_state()}
    for key, obj in objects.items():
        payload[key] = obj.state_dict() if hasattr(obj, "state_dict") else obj
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


def load_checkpoint(path: str | os.PathLike, restore_rng: bool = True, **objects: Any) -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` into ``objects``; return the payload."""
    payload = torch.load(path, map_location="cpu", weights_only=True)
    for key, obj in objects.items():
        if key not in payload:
            raise KeyError(f"{path}: checkpoint has no {key!r}")
        obj.load_state_dict(payload[key])
    if restore_rng:
        set_rng_state(payload["rng"])
    return payload


def find_runs(root: str | os.PathLike, marker: str) -> list[Path]:
    """``root`` itself when it holds ``marker`` (a run's weights file), else the sub-folders
    that do, sorted: a run folder or a folder of runs."""
    root = Path(root)
    if (root / marker).is_file():
        return [root]
    return sorted(p.parent for p in root.glob(f"*/{marker}"))


def open_run_dir(run_dir: str | os.PathLike, resume: bool) -> tuple[Path, Path]:
    """Create the run folder; return ``(folder, checkpoint path)``.

    Raises:
        LeftoverRunError: a checkpoint exists and ``resume`` is off.
        ValueError: ``resume`` finds no checkpoint.
    """
    run = Path(run_dir)
    ckpt = run / "checkpoint.pt"
    if ckpt.exists() and not resume:
        raise LeftoverRunError(f"{run} already holds a run")
    if resume and not ckpt.exists():
        raise ValueError(f"nothing to resume: {ckpt} does not exist")
    run.mkdir(parents=True, exist_ok=True)
    return run, ckpt


def distributed_info() -> tuple[int, int, int]:
    """``(world_size, rank, local_rank)`` from the environment ``torchrun`` sets (1, 0, 0 alone)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    return world, rank, local


def init_distributed(device: torch.device) -> tuple[int, int, torch.device]:
    """Join the process group when launched by ``torchrun`` (NCCL on GPUs, gloo on CPUs).

    Returns:
        ``(world_size, rank, device)``; on GPUs the device becomes ``cuda:LOCAL_RANK``.
    """
    import torch.distributed as dist

    world, rank, local = distributed_info()
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if world > 1 and device.type == "cuda":
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    return world, rank, device


def restore_rank_rng(states: list[dict[str, Any]], rank: int, seed: int, step: int) -> None:
    """Resume this rank's random numbers from a checkpoint's per-rank states; a rank the
    checkpoint did not have (more processes than before) gets a fresh seed from the step."""
    if rank < len(states):
        set_rng_state(states[rank])
    else:
        seed_everything(seed + rank + 7919 * step)


def gather_rng_states(world: int) -> list[dict[str, Any]]:
    """The RNG state of every process (collective: all ranks must call it)."""
    if world == 1:
        return [rng_state()]
    import torch.distributed as dist

    states: list[Any] = [None] * world
    dist.all_gather_object(states, rng_state())
    return states


class TrainingRun:
    """The skeleton every trainer shares: the distributed set-up when launched by ``torchrun``
    (rank 0 writes), the run folder (an existing run refused without ``resume``), a seed per
    rank, the resume of a checkpoint with each rank's random numbers, the checkpoint that
    gathers them, and the barrier at the end.

    ``seed_rank()`` is left to the trainer (where it seeds decides which draws come first)."""

    def __init__(self, run_dir: str | os.PathLike, resume: bool, seed: int,
                 device: torch.device | str = "cpu", distributed: bool = True):  # fmt: skip
        device = torch.device(device)
        # a trainer that is not distributed runs as one process whatever the environment says
        self.world, self.rank, self.device = (init_distributed(device) if distributed
                                              else (1, 0, device))  # fmt: skip
        self.main = self.rank == 0
        self.dir, self.checkpoint_path = open_run_dir(run_dir, resume)
        self.resume, self.seed = resume, seed

    def seed_rank(self) -> torch.Generator:
        """Seed this process (``seed + rank``); a generator seeded the same way."""
        return seed_everything(self.seed + self.rank)

    def restore(self, **objects: Any) -> dict | None:
        """When resuming: the checkpoint's ``objects`` loaded and this rank's random numbers
        continued; the payload (None when not resuming)."""
        if not self.resume:
            return None
        payload = load_checkpoint(self.checkpoint_path, restore_rng=False, **objects)
        if "rng_all" in payload:
            step = int(payload.get("step", 0))  # only seeds a rank the checkpoint lacks
            restore_rank_rng(payload["rng_all"], self.rank, self.seed, step)
        else:  # a single-process checkpoint of before
            set_rng_state(payload["rng"])
        return payload

    def save(self, **objects: Any) -> None:
        """Checkpoint (collective: every rank calls it): the ranks' random numbers gathered,
        rank 0 writes atomically."""
        states = gather_rng_states(self.world)
        if self.main:
            save_checkpoint(self.checkpoint_path, rng_all=states, **objects)

    def wrap(self, module: torch.nn.Module) -> torch.nn.Module:
        """``module`` in DistributedDataParallel when there are several processes."""
        if self.world == 1:
            return module
        ids = [self.device.index] if self.device.type == "cuda" else None
        return torch.nn.parallel.DistributedDataParallel(module, device_ids=ids)

    def finish(self) -> None:
        """Wait for every rank (the last checkpoint is written before any returns)."""
        if self.world > 1:
            import torch.distributed as dist

            dist.barrier()
