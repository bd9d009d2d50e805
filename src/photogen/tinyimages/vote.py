"""Labels by neighbour voting, and colour from grey siblings (Torralba et al. 2008, Sec. 5-6).

Voting: each of the ``k`` nearest neighbours votes for its label, with weight 1 or
``exp(-D / sigma)``; with a label hierarchy (``child,parent`` pairs, as the paper voted up
WordNet) every vote also counts for all ancestors, and the answer is the deepest label whose
votes pass ``min_share`` of the total.

Sibling colorization: the grey query's nearest neighbours in the grey index ("siblings");
the average of their colour versions gives ab, which is upsampled and recombined with the
query's own L at full resolution (the paper's Fig. 21); or the best single sibling's ab.
"""

from __future__ import annotations

import csv
import math
import os
from collections import Counter

import torch
import torch.nn.functional as F

from photogen.core.color import lab_to_rgb, rgb_to_lab


def read_hierarchy(path: str | os.PathLike) -> dict[str, str]:
    """``child,parent`` rows -> ``{child: parent}``."""
    out = {}
    with open(path, newline="") as f:
        for row in csv.reader(f):
            if len(row) >= 2 and row[0] and not row[0].startswith("#"):
                out[row[0].strip()] = row[1].strip()
    return out


def ancestors(label: str, parents: dict[str, str]) -> list[str]:
    """``label`` and its ancestors, nearest first (cycles are cut)."""
    chain, seen = [label], {label}
    while chain[-1] in parents and parents[chain[-1]] not in seen:
        chain.append(parents[chain[-1]])
        seen.add(chain[-1])
    return chain


def vote(
    labels: list[str],
    distances: torch.Tensor,
    weighting: str = "uniform",
    sigma: float = 0.1,
    parents: dict[str, str] | None = None,
    min_share: float = 0.5,
) -> tuple[str, float, Counter]:
    """The winning label of one query's neighbours, its share of the votes, all votes."""
    votes: Counter = Counter()
    for lab, d in zip(labels, distances.tolist(), strict=True):
        w = 1.0 if weighting == "uniform" else math.exp(-d / sigma)
        for node in ancestors(lab, parents or {}):
            votes[node] += w
    total = sum(w for lab, w in votes.items() if lab in labels) or 1.0
    if not parents:
        best, w = votes.most_common(1)[0]
        return best, w / total, votes
    depth = {lab: len(ancestors(lab, parents)) for lab in votes}
    passing = [lab for lab, w in votes.items() if w / total >= min_share]
    best = max(passing or votes, key=lambda lab: (depth[lab], votes[lab]))
    return best, votes[best] / total, votes


def sibling_colorize(
    grey_rgb: torch.Tensor, siblings: torch.Tensor, best_only: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """``grey_rgb`` ``(1, 3, H, W)`` ``[0, 1]``; ``siblings`` uint8 ``(k, 3, 32, 32)``, nearest
    first -> ``(rgb, lab)``, each ``(1, 3, H, W)``: the query's own L (exactly) with the
    siblings' mean ab (or the best one's), upsampled to the query's size."""
    tiles = siblings[:1] if best_only else siblings
    lab = rgb_to_lab(tiles.float() / 255.0)
    ab = lab[:, 1:].mean(0, keepdim=True)
    h, w = grey_rgb.shape[-2:]
    ab = F.interpolate(ab, size=(h, w), mode="bilinear", align_corners=False)
    lab_out = torch.cat([rgb_to_lab(grey_rgb)[:, :1], ab], 1)
    return lab_to_rgb(lab_out), lab_out


def grey_query(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A photo -> ``(grey image, grey tiny image)`` for sibling colorization.

    The grey image keeps the photo's own lightness (Lab L, a = b = 0: a channel mean would make
    a blue photo come out lighter than it is); the tiny key is the channel mean, as the
    database's grey keys are.
    """
    from photogen.tinyimages.tiny import tiny_image

    lightness = rgb_to_lab(image)[:, :1]
    grey = lab_to_rgb(torch.cat([lightness, torch.zeros_like(lightness).expand(-1, 2, -1, -1)], 1))
    tiny = tiny_image(image)
    return grey, tiny.float().mean(0, keepdim=True).expand(3, -1, -1).round().to(torch.uint8)
