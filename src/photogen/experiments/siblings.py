"""Torralba, Fergus, Freeman 2008, Fig. 21: the colour of a grey photo from its grey
"siblings", the tiny images whose grey versions are nearest to it."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from photogen.core.gallery import pyplot, save_figure
from photogen.core.samples import wallpapers
from photogen.experiments import verdicts
from photogen.experiments.base import Experiment, Outcome, Settings, natural_photos

K = 8
# natural photos as queries (the panel shows the first); opencv-doc's icons and charts are not
PREFERRED = ("chelsea", "coffee", "fruits", "baboon", "motorcycle", "astronaut", "home",
             "building", "messi5", "aero3")  # fmt: skip


def _square(img: torch.Tensor, side: int) -> torch.Tensor:
    h, w = img.shape[-2:]
    s = min(h, w)
    crop = img[..., (h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
    return F.interpolate(crop, size=(side, side), mode="area").clamp(0, 1)


def siblings(folder: Path, s: Settings) -> Outcome:
    from photogen.core.color import rgb_to_lab
    from photogen.core.image import read_image
    from photogen.core.samples import load_sample
    from photogen.tinyimages.crops import random_crops, working_size
    from photogen.tinyimages.tiny import d_ssd, normalise, tiny_image
    from photogen.tinyimages.vote import sibling_colorize

    names = natural_photos()
    g = torch.Generator().manual_seed(s.seed)
    queries = [n for n in PREFERRED if n in names][: 1 if s.tiny else 6]
    photos = [working_size(load_sample(n)) for n in names if n not in queries]
    if not s.tiny:
        photos += [working_size(read_image(p)) for p in wallpapers()]
    size = 2_000 if s.tiny else (200_000 if s.full else 40_000)
    db = random_crops(photos, size, g)  # (N, 3, 32, 32) uint8, no crop of a query photo
    db = db[db.float().mean(1).flatten(1).std(1) > 4.0]  # flat crops match any flat query
    db_grey = normalise(db, colour=False)
    errors = {"siblings": [], "random": []}
    panel = None
    for qi, name in enumerate(queries):
        photo = _square(load_sample(name), 128)
        grey = photo.mean(1, keepdim=True).expand(-1, 3, -1, -1)
        q = normalise(tiny_image(grey), colour=False)
        dist, nn = d_ssd(q, db_grey)[0].topk(K, largest=False)
        sibs = db[nn]
        rgb, lab = sibling_colorize(grey, sibs)
        rand = db[torch.randint(len(db), (K,), generator=g)]
        _, lab_rand = sibling_colorize(grey, rand)
        truth = rgb_to_lab(photo)[:, 1:]
        errors["siblings"].append(float((lab[:, 1:] - truth).norm(dim=1).mean()))
        errors["random"].append(float((lab_rand[:, 1:] - truth).norm(dim=1).mean()))
        if qi == 0:
            candidates = [sibling_colorize(grey, sibs[i : i + 1], best_only=True)[0]
                          for i in range(4)]  # fmt: skip
            mean_tile = sibs.float().mean(0, keepdim=True) / 255.0
            panel = (grey, sibs, mean_tile, rgb, candidates, photo, name)
    grey, sibs, mean_tile, rgb, candidates, photo, qname = panel
    plt = pyplot()
    fig, axes = plt.subplots(6, K, figsize=(K * 1.3, 6 * 1.4), dpi=90)
    for ax in axes.flat:
        ax.axis("off")

    def show(ax, img, title=""):
        ax.imshow(img[0].permute(1, 2, 0).clamp(0, 1).numpy())
        ax.set_title(title, fontsize=7)

    show(axes[0, 0], grey, "grey input")
    show(axes[0, 1], photo, "(truth)")
    for i in range(K):
        grey_tile = sibs[i : i + 1].float().mean(1, keepdim=True).expand(-1, 3, -1, -1) / 255
        show(axes[1, i], grey_tile, "grey siblings" if i == 0 else "")
        show(axes[2, i], sibs[i : i + 1].float() / 255.0, "in colour" if i == 0 else "")
    show(axes[3, 0], mean_tile, "their average")
    show(axes[4, 0], rgb, "input + average's colour")
    for i, c in enumerate(candidates):
        show(axes[5, i], c, "candidates (one sibling each)" if i == 0 else "")
    fig.tight_layout()
    save_figure(fig, folder / "siblings.png")
    sib, rnd = (sum(v) / len(v) for v in errors.values())
    finding = (
        f"mean ab error against the true colours over {len(queries)} held-out photos: "
        f"siblings' average {sib:.1f}, {K} random tiny images' average {rnd:.1f}"
    )
    setup = (f"{len(db):,} random 32x32 crops (not flat) of {len(photos)} offline photos as "
             "the database; "
             f"each held-out photo ({', '.join(queries)}) is greyed, its {K} nearest tiny "
             "images by D_ssd of normalised grey pixels are its siblings; the photo keeps its "
             f"own L and takes their mean ab. Panel: {qname}.")  # fmt: skip
    numbers = {
        "database": size,
        "queries": queries,
        "ab_error": errors,
        "mean_ab_error": {"siblings": round(sib, 2), "random": round(rnd, 2)},
    }
    return Outcome(setup, numbers, ["siblings.png"], finding)


EXPERIMENT = Experiment(
    "siblings",
    "Colour from grey siblings",
    "The tiny images nearest to a grey photo (its siblings, matched in grey) carry plausible "
    "colours for it: their average colours the photo better than random images do.",
    "Torralba, Fergus, Freeman 2008, Fig. 21",
    run=siblings,
    verdict=verdicts.siblings,
)
