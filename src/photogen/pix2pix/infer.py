"""Applying a pix2pix generator: single images, folders, and scored test sets.

Test-time behaviour follows the paper: dropout stays on and batch norm uses the statistics of
the image at hand (the reference's default; ``eval_mode=True`` is its ``--eval``). Batch-norm
running statistics are never modified by inference here (momentum set to 0), so the same
model gives the same output for the same seed however many images went before.
"""

from __future__ import annotations

import contextvars
import json
import os
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from photogen.core.atomic import write_text_atomic
from photogen.core.image import ImageError
from photogen.core.resample import resize
from photogen.pix2pix.data import AlignedDataset, find_pairs, from_model, to_model
from photogen.pix2pix.metrics import MetricSet
from photogen.pix2pix.runfiles import write_triplets


def prepare(G: nn.Module, eval_mode: bool = False, channels_last: bool = False) -> nn.Module:
    """Put ``G`` in the paper's test mode (or ``--eval`` mode) without side effects."""
    G.train(not eval_mode)
    for m in G.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = 0.0  # use batch statistics, leave the running ones as they are
    if channels_last:
        G.to(memory_format=torch.channels_last)
    return G


# The dropout generators of the forward pass running in this thread (a context variable, not
# an attribute of the shared module: two threads translating at once each draw their own).
DROPOUT_GENERATORS: contextvars.ContextVar[list[torch.Generator] | None] = contextvars.ContextVar(
    "photogen_dropout_generators", default=None
)


class SeededDropout(nn.Module):
    """Dropout whose mask for image ``i`` of a batch comes from generator ``i`` of
    :data:`DROPOUT_GENERATORS` (set by the caller for this forward, in this thread): an image
    gets the same noise alone or in any batch, and concurrent calls do not share state."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        generators = DROPOUT_GENERATORS.get()
        if generators is None or len(generators) != x.shape[0]:
            raise RuntimeError("SeededDropout: set one generator per image before the forward")
        keep = 1.0 - self.p
        masks = [torch.bernoulli(torch.full(x.shape[1:], keep), generator=g)
                 for g in generators]  # fmt: skip
        return x * torch.stack(masks).to(x) / keep


class FixedDropout(nn.Module):
    """Dropout with one stored mask (already divided by the keep probability)."""

    def __init__(self, mask: torch.Tensor):
        super().__init__()
        self.register_buffer("mask", mask[None])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.mask


class BatchTranslator:
    """``G`` for many images at once with per-image semantics, for folders and test sets.

    The paper's test mode normalises each image by its own statistics; batching images through
    a train-mode batch norm would mix them. Here each ``BatchNorm2d`` becomes the per-image
    normalisation it computes for a batch of one (see :class:`PerImageBatchNorm`) and dropout
    draws each image's mask from its own seeded generator, so a batch of N gives exactly the N
    single-image results, and the convolutions run batched (faster on CPUs: weights are read
    once per batch). ``eval_mode`` uses running statistics and no dropout instead.
    """

    def __init__(self, G: nn.Module, eval_mode: bool = False, device: torch.device | None = None,
                 precision: str = "fp32"):  # fmt: skip
        from photogen.pix2pix.export import exportable

        self.precision = precision  # fp32 or bf16 (photogen.core.precision)
        self.device = device or next(G.parameters()).device
        self.model = exportable(G, eval_mode).to(self.device)  # eval mode, per-image norms
        self.dropouts: list[SeededDropout] = []
        if not eval_mode:
            for parent in list(self.model.modules()):
                for name, child in list(parent.named_children()):
                    if isinstance(child, nn.Dropout):
                        drop = SeededDropout(child.p)
                        setattr(parent, name, drop)
                        self.dropouts.append(drop)

    def frozen(self, size: int, seed: int) -> nn.Module:
        """A copy whose dropout masks are the ones seed ``seed`` draws for one
        ``size`` x ``size`` image, stored as constants: the same function as ``self(x,
        [seed])`` for such images, without random numbers, so it exports (ONNX, OpenVINO)."""
        import copy

        model = copy.deepcopy(self.model)
        shapes: list[tuple[SeededDropout, torch.Size]] = []
        hooks = [d.register_forward_pre_hook(lambda m, a: shapes.append((m, a[0].shape[1:])))
                 for d in self.dropouts]  # fmt: skip
        in_ch = next(m for m in self.model.modules() if isinstance(m, nn.Conv2d)).in_channels
        self(torch.zeros(1, in_ch, size, size), [seed])
        for h in hooks:
            h.remove()
        g = torch.Generator().manual_seed(seed)  # the draws of __call__, in the same order
        masks = {}
        for drop, shape in shapes:
            keep = 1.0 - drop.p
            masks[id(drop)] = torch.bernoulli(torch.full(shape, keep), generator=g) / keep
        names = {id(m): n for n, m in self.model.named_modules()}
        for drop, _ in shapes:
            parent_name, _, child = names[id(drop)].rpartition(".")
            parent = model.get_submodule(parent_name) if parent_name else model
            setattr(parent, child, FixedDropout(masks[id(drop)]))
        return model.eval()

    @torch.inference_mode()
    def __call__(self, x: torch.Tensor, seeds: list[int],
                 precision: str | None = None) -> torch.Tensor:  # fmt: skip
        """``x`` ``(N, C, H, W)`` in ``[-1, 1]``, one seed per image -> ``(N, C', H, W)``;
        at ``precision`` (default the translator's)."""
        from photogen.core.precision import autocast

        # One generator per image, shared by the dropout layers in forward order; set for this
        # thread's forward only, so that translators can be called from several threads.
        token = DROPOUT_GENERATORS.set([torch.Generator().manual_seed(s) for s in seeds])
        try:
            with autocast(precision or self.precision, self.device):
                return self.model(x.to(self.device)).float().cpu()
        finally:
            DROPOUT_GENERATORS.reset(token)


def translate_files(
    translator: BatchTranslator,
    paths: list[Path],
    outputs: list[Path],
    size: int = 256,
    keep_size: bool = True,
    batch_size: int = 8,
    seed: int = 0,
    max_pixels: int | None = None,
    on_error: Callable[[Path, Exception], None] = lambda p, e: None,
    on_done: Callable[[Path], None] = lambda p: None,
) -> int:
    """Translate ``paths`` into ``outputs`` in batches; decoding and encoding run in threads
    beside the network. Every image gets dropout seed ``seed`` (its result does not depend on
    the batch it falls in). Returns the number of failures (each reported via ``on_error``).
    """
    from concurrent.futures import ThreadPoolExecutor

    from photogen.core.image import DEFAULT_MAX_PIXELS, read_image, save_image

    def load(path: Path):
        try:
            image = read_image(path, max_pixels=max_pixels or DEFAULT_MAX_PIXELS)
            return image.shape[-2:], to_model(resize(image, size, "bicubic"))
        except (ImageError, OSError, ValueError) as exc:
            return exc, None

    def write(result: torch.Tensor, hw, out: Path, src: Path) -> None:
        image = from_model(result[None])
        if keep_size and tuple(hw) != (size, size):
            image = resize(image, tuple(hw), "bicubic")
        save_image(image, out)
        on_done(src)

    failed = 0
    with ThreadPoolExecutor(1) as reader, ThreadPoolExecutor(1) as writer:
        loaded = reader.map(load, paths)
        writes = []
        batch: list = []
        for i, (hw, x) in enumerate(loaded):
            if x is None:
                failed += 1
                on_error(paths[i], hw)
            else:
                batch.append((i, hw, x))
            if batch and (len(batch) == batch_size or i == len(paths) - 1):
                results = translator(torch.cat([b[2] for b in batch]), [seed] * len(batch))
                for (j, hw_j, _), r in zip(batch, results, strict=True):
                    writes.append((paths[j], writer.submit(write, r, hw_j, outputs[j], paths[j])))
                batch = []
        for src, fut in writes:
            try:
                fut.result()
            except (ImageError, OSError, ValueError) as exc:
                failed += 1
                on_error(src, exc)
    return failed


def run_test(
    G: nn.Module,
    data: str | os.PathLike,
    out_dir: str | os.PathLike,
    direction: str = "AtoB",
    size: int = 256,
    phase: str = "test",
    fid: str | None = "lite0",
    max_images: int | None = None,
    device: torch.device | None = None,
    progress: Callable | None = None,
    log: Callable[[str], None] = lambda msg: None,
    eval_mode: bool = False,
    seed: int = 0,
    batch_size: int = 8,
    precision: str = "fp32",
) -> dict:
    """Translate the pairs of ``data/phase`` (or ``data``), score them, write a results page.

    Writes ``out_dir/index.html`` (input, output, target for each pair), ``metrics.json``
    (means and FID) and ``per_image.json``. Batches of ``batch_size`` pairs go through
    :class:`BatchTranslator` (per-image semantics, dropout seed ``seed``) at ``precision``.
    """
    translator = BatchTranslator(G, eval_mode, device, precision)
    pairs = find_pairs(data, phase)[:max_images]
    dataset = AlignedDataset(pairs, direction, size, size, False, False, on_error=log)
    metrics = MetricSet(fid, translator.device)
    shown = []
    done: set[int] = set()
    batches = [
        range(i, min(i + batch_size, len(dataset))) for i in range(0, len(dataset), batch_size)
    ]
    bar = progress(total=len(dataset)) if progress else None
    for chunk in batches:
        items = []
        for i in chunk:
            item = dataset[i]
            if item["index"] not in done:  # a bad pair is replaced by the next good one
                done.add(item["index"])
                items.append(item)
        if items:
            a = torch.stack([it["A"] for it in items])
            fakes = translator(a, [seed] * len(items))
            for item, fake in zip(items, fakes, strict=True):
                name = pairs[item["index"]].name
                b = item["B"][None]
                metrics.update(name, from_model(fake[None]), from_model(b))
                shown.append((name, item["A"][None], fake[None], b))
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()
    if not shown:
        raise ValueError(f"{data}: no readable test pairs")
    summary = metrics.summary()
    summary["skipped"] = len(dataset.bad)
    note = ", ".join(f"{k} {v:.4g}" for k, v in summary.items() if isinstance(v, float))
    out_dir = Path(out_dir)
    write_triplets(out_dir, f"pix2pix results: {Path(data).name}", shown, note)
    write_text_atomic(out_dir / "metrics.json", json.dumps(summary, indent=2))
    write_text_atomic(out_dir / "per_image.json", json.dumps(metrics.rows, indent=1))
    return summary
