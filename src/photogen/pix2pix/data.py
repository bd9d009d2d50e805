"""Aligned image pairs for pix2pix: ``A|B`` side-by-side files or ``A/`` + ``B/`` folders.

Layouts (``DATA`` may also hold ``train/``, ``val/``, ``test/`` with either layout inside):

- ``DATA/*.jpg`` with A on the left half and B on the right (the authors' datasets);
- ``DATA/A/NAME`` and ``DATA/B/NAME`` with matching file stems.

Any size, 8 or 16 bit, any mode the core reader takes. Training jitter is the paper's: resize
to ``load_size`` (286), random crop ``crop_size`` (256), random mirror; every random choice of
sample ``i`` in epoch ``e`` comes from a generator seeded by ``(seed, e, i)``, so a resumed run
sees exactly the batches an unbroken run would, with any number of processes.
Tensors are ``(3, H, W)`` in ``[-1, 1]``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from photogen.core.image import DEFAULT_MAX_PIXELS, IMAGE_SUFFIXES, ImageError, read_image
from photogen.core.resample import resize

DIRECTIONS = ("AtoB", "BtoA")


@dataclass(frozen=True)
class Pair:
    """One aligned example: a side-by-side file (``b is None``) or two files."""

    a: Path
    b: Path | None = None

    @property
    def name(self) -> str:
        return self.a.stem


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def find_pairs(root: str | os.PathLike, phase: str = "train") -> list[Pair]:
    """The pairs under ``root`` (or ``root/phase`` when it exists), sorted by name."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root}: not a folder")
    if (root / phase).is_dir():
        root = root / phase
    if (root / "A").is_dir() and (root / "B").is_dir():
        b_files = {p.stem: p for p in _images(root / "B")}
        pairs = [Pair(a, b_files[a.stem]) for a in _images(root / "A") if a.stem in b_files]
        if not pairs:
            raise ValueError(f"{root}: A/ and B/ share no file names")
        return pairs
    pairs = [Pair(p) for p in _images(root)]
    if not pairs:
        raise ValueError(f"{root}: no images (expected A|B side-by-side files or A/ and B/)")
    return pairs


def read_pair(
    pair: Pair, direction: str = "AtoB", max_pixels: int = DEFAULT_MAX_PIXELS
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(input, target)`` as ``(3, H, W)`` float in ``[0, 1]``, swapped for ``BtoA``."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be AtoB or BtoA, got {direction!r}")
    if pair.b is None:
        ab = read_image(pair.a, max_pixels=max_pixels)[0]
        w = ab.shape[-1]
        if w < 2:
            raise ImageError(pair.a, "too narrow to hold an A|B pair")
        a, b = ab[..., : w // 2], ab[..., w // 2 : 2 * (w // 2)]
    else:
        a = read_image(pair.a, max_pixels=max_pixels)[0]
        b = read_image(pair.b, max_pixels=max_pixels)[0]
    return (a, b) if direction == "AtoB" else (b, a)


def to_model(image: torch.Tensor) -> torch.Tensor:
    """``[0, 1]`` -> ``[-1, 1]``."""
    return image * 2.0 - 1.0


def from_model(image: torch.Tensor) -> torch.Tensor:
    """``[-1, 1]`` -> ``[0, 1]``."""
    return ((image + 1.0) * 0.5).clamp(0, 1)


def sample_generator(seed: int, epoch: int, index: int) -> torch.Generator:
    """The generator behind every random choice for sample ``index`` in ``epoch``."""
    return torch.Generator().manual_seed((seed * 1_000_003 + epoch) * 10_000_019 + index)


def jitter(
    a: torch.Tensor, b: torch.Tensor, load_size: int, crop_size: int, flip: bool, gen
) -> tuple[torch.Tensor, torch.Tensor]:
    """The paper's random jitter, identical for input and target."""
    a, b = resize(a, load_size, "bicubic"), resize(b, load_size, "bicubic")
    if load_size > crop_size:
        y, x = (int(v) for v in torch.randint(0, load_size - crop_size + 1, (2,), generator=gen))
        a = a[:, y : y + crop_size, x : x + crop_size]
        b = b[:, y : y + crop_size, x : x + crop_size]
    if flip and bool(torch.rand((), generator=gen) < 0.5):
        a, b = a.flip(-1), b.flip(-1)
    return a, b


class AlignedDataset(torch.utils.data.Dataset):
    """Pairs, jittered for training (or only resized when ``train=False``).

    Decoded pairs are kept in memory at ``load_size`` (uint8) up to ``cache_bytes``; a file
    that cannot be read is reported once through ``on_error`` and replaced by the next one.
    """

    def __init__(
        self,
        pairs: list[Pair],
        direction: str = "AtoB",
        load_size: int = 286,
        crop_size: int = 256,
        flip: bool = True,
        train: bool = True,
        seed: int = 0,
        cache_bytes: int = 2 << 30,
        on_error: Callable[[str], None] = lambda msg: None,
    ):
        if crop_size > load_size:
            raise ValueError(f"crop size {crop_size} exceeds load size {load_size}")
        self.pairs, self.direction = list(pairs), direction
        self.load_size, self.crop_size = load_size, crop_size
        self.flip, self.train, self.seed = flip, train, seed
        self.epoch = 0
        self.on_error = on_error
        self.bad: set[int] = set()
        self._cache: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        side = load_size if train else crop_size
        self._cache_limit = cache_bytes // max(1, 2 * 3 * side * side)

    def __len__(self) -> int:
        return len(self.pairs)

    def _load(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if index in self._cache:
            a, b = self._cache[index]
            return a.float() / 255.0, b.float() / 255.0
        a, b = read_pair(self.pairs[index], self.direction)
        side = self.load_size if self.train else self.crop_size
        a, b = resize(a, side, "bicubic"), resize(b, side, "bicubic")
        if len(self._cache) < self._cache_limit:
            q = [(t * 255.0).round().to(torch.uint8) for t in (a, b)]
            self._cache[index] = (q[0], q[1])
            a, b = q[0].float() / 255.0, q[1].float() / 255.0
        return a, b

    def _load_good(self, index: int) -> tuple[int, torch.Tensor, torch.Tensor]:
        for k in range(len(self.pairs)):
            i = (index + k) % len(self.pairs)
            if i in self.bad:
                continue
            try:
                return (i, *self._load(i))
            except ImageError as exc:
                self.bad.add(i)
                self.on_error(f"{exc} (pair skipped)")
        raise ValueError("no readable pair left in the dataset")

    def __getitem__(self, index: int) -> dict:
        i, a, b = self._load_good(index)
        if self.train:
            gen = sample_generator(self.seed, self.epoch, index)
            a, b = jitter(a, b, self.load_size, self.crop_size, self.flip, gen)
        return {"A": to_model(a), "B": to_model(b), "index": i}


def epoch_order(n: int, seed: int, epoch: int, rank: int = 0, world: int = 1) -> list[int]:
    """This process's sample order in ``epoch``: a seeded permutation, split across ranks."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 7919 + epoch)).tolist()
    per_rank = max(1, n // world)
    return perm[rank * per_rank : (rank + 1) * per_rank]


def collate(items: list[dict]) -> dict:
    return {
        "A": torch.stack([it["A"] for it in items]),
        "B": torch.stack([it["B"] for it in items]),
        "index": [it["index"] for it in items],
    }
