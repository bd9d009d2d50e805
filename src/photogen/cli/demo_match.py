"""The demo's data-driven matching section (Torralba et al. 2008) on the offline photos."""

from __future__ import annotations

import argparse
import hashlib
import shutil
from pathlib import Path

import numpy as np
import torch

from photogen.core.gallery import Section, Tile
from photogen.core.image import save_image

HELD_OUT = "chelsea"


def match_section(args: argparse.Namespace, out: Path) -> Section:
    """A tiny-images database of random crops of every offline photo but one; crops of the held
    out photo as queries: their nearest neighbours, and sibling colorization of a grey crop."""
    import torch.nn.functional as F

    from photogen.core.samples import load_sample, photo_samples
    from photogen.pixelcnn.train import sample_grid
    from photogen.tinyimages.crops import random_crops, working_size
    from photogen.tinyimages.database import TinyDB
    from photogen.tinyimages.search import Searcher, fit_pca
    from photogen.tinyimages.tiny import enlarge, tiny_image
    from photogen.tinyimages.vote import sibling_colorize

    photos = {n: working_size(load_sample(n)) for n in photo_samples()}
    query_photo = photos.pop(HELD_OUT)
    root = out / "match_db"
    if root.exists():
        shutil.rmtree(root)
    db = TinyDB(root, create=True)
    gen = torch.Generator().manual_seed(args.seed)
    per_photo = max(2, (200 if args.fast else 20_000) // len(photos))
    tinies, paths = [], []
    for name, photo in photos.items():
        tinies.append(random_crops([photo], per_photo, gen).numpy())
        paths += [f"{name}:crop{i}" for i in range(per_photo)]
    block = np.concatenate(tinies)
    hashes = [hashlib.sha1(t.tobytes()).hexdigest() + p for t, p in zip(block, paths, strict=True)]
    db.add(block, paths, [p.split(":")[0] for p in paths], hashes)
    fit_pca(db, 64)
    fit_pca(db, 64, colour=False)
    queries = random_crops([query_photo], 4, gen)
    dist, ids = Searcher(db).search(queries, 8)
    rows = [torch.cat([q[None], db.tiny(i.numpy())]) for q, i in zip(queries, ids, strict=True)]
    save_image(sample_grid(enlarge(torch.cat(rows)), cols=9, pad=4), out / "match_neighbours.png")

    h, w = query_photo.shape[-2:]
    side = min(h, w)
    crop = query_photo[..., (h - side) // 2 : (h + side) // 2, (w - side) // 2 : (w + side) // 2]
    crop = F.interpolate(crop, size=(128, 128), mode="area")
    grey = crop.mean(1, keepdim=True).expand(-1, 3, -1, -1)
    g_tiny = tiny_image(grey)
    _, sib = Searcher(db, colour=False).search(g_tiny[None], 8)
    rgb, _ = sibling_colorize(grey, db.tiny(sib[0].numpy()))
    save_image(torch.cat([grey, rgb, crop], -1), out / "match_siblings.png")
    save_image(sample_grid(enlarge(db.tiny(sib[0].numpy())), cols=8, pad=4),
               out / "match_sibling_tiles.png")  # fmt: skip
    tiles = [
        Tile(out / "match_neighbours.png",
             f"crops of {HELD_OUT} (left, not in the database) and their 8 nearest tiny "
             "images by D_ssd"),
        Tile(out / "match_siblings.png", "grey crop | its siblings' colour (own L) | truth"),
        Tile(out / "match_sibling_tiles.png", "the 8 grey-matched siblings, in colour"),
    ]  # fmt: skip
    return Section(
        "Data-driven matching: tiny images (Torralba, Fergus, Freeman 2008)",
        tiles,
        {
            "database": f"{len(db):,} tiny images from {len(photos)} photos",
            "PCA": "64 components + residual norm",
            "mean D_ssd of the neighbours": round(float(dist.mean()), 3),
        },  # fmt: skip
        note="The paper's effects need millions of varied images; here a few tens of thousands "
        "of crops of the offline photos. 'photogen match build DIR --db DB' indexes your own.",
    )
