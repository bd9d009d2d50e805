"""``photogen pixelcnn``: autoregressive pixel models (Gated PixelCNN, van den Oord et al. 2016).

``train SOURCE --name RUN`` · ``sample --model RUN --size HxW --n K`` ·
``complete IMAGE (--mask MASK | --box x,y,w,h) --model RUN --n K``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from tqdm import tqdm

from photogen.cli.common import UsageError, add_runtime_args, info, parse_size, setup_runtime
from photogen.cli.paths import declare_paths
from photogen.core.image import read_image, save_image


def add_parser(sub) -> None:
    p = sub.add_parser(
        "pixelcnn",
        help="autoregressive pixel models: textures, images, completion (Gated PixelCNN)",
        description="Gated PixelCNN: train on a texture or a dataset, sample images of any "
        "size, complete occluded regions.",
    )
    cmds = p.add_subparsers(dest="pixelcnn_command", required=True, metavar="COMMAND")
    t = cmds.add_parser(
        "train",
        help="train a model",
        description="SOURCE: one texture image (random patches; held-out strip at its right), "
        "a folder of images, 'fashion-mnist' (Debian dataset-fashion-mnist) or 'digits' "
        "(opencv-doc). Writes RUN/model.safetensors, checkpoint.pt (--resume continues "
        "exactly), log.csv, loss.png (bits/dim), samples/step_N.png.",
    )
    t.add_argument("source")
    t.add_argument("--name", required=True, type=Path, help="run folder")
    t.add_argument("--patch", type=int, default=32, help="training patch side")
    t.add_argument("--steps", type=int, default=2000)
    t.add_argument("--batch-size", type=int, default=16)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--flips", action="store_true", help="augment with horizontal flips")
    t.add_argument("--grey", action="store_true", help="one channel")
    t.add_argument("--image-size", type=int, default=None, help="folders: image side (32)")
    t.add_argument("--hidden", type=int, default=96, help="feature maps (multiple of 3)")
    t.add_argument("--layers", type=int, default=8, help="gated layers")
    t.add_argument("--output", choices=["softmax", "logistic"], default="softmax",
                   help="256-way softmax per channel, or PixelCNN++ logistic mixture")  # fmt: skip
    t.add_argument("--mixtures", type=int, default=5, help="logistic mixture components")
    t.add_argument("--conditional", action="store_true", help="class-conditional (datasets)")
    t.add_argument("--save-every", type=int, default=200)
    t.add_argument("--sample-every", type=int, default=500)
    t.add_argument("--val-every", type=int, default=200)
    t.add_argument("--resume", action="store_true")
    add_runtime_args(t)
    t.set_defaults(func=run_train)
    declare_paths(t, {"source": "dataset"}, {"name": "folder"})

    s = cmds.add_parser("sample", help="sample images of any size",
                        description="Sample K images (fast cached sampler; --naive reruns the "
                        "network per pixel, same result). Any size: the receptive field "
                        "slides.")  # fmt: skip
    s.add_argument("--model", required=True, help="run folder or model.safetensors")
    s.add_argument("--size", default="64", help="N or HxW")
    s.add_argument("--n", type=int, default=4, help="number of images")
    s.add_argument("--temperature", type=float, default=1.0)
    s.add_argument("--label", type=int, default=None, help="class (conditional models)")
    s.add_argument("--naive", action="store_true", help="the slow reference sampler")
    s.add_argument("-o", "--output", type=Path, required=True, help="grid image, or folder")
    add_runtime_args(s)
    s.set_defaults(func=run_sample)
    declare_paths(s, {"model": "model"}, {"output": "file-or-folder"})

    c = cmds.add_parser("complete", help="fill an occluded region, K alternatives",
                        description="Keep the visible pixels, sample the occluded ones in "
                        "raster order conditioned on everything visible before them. Writes "
                        "occluded | original | K completions side by side.")  # fmt: skip
    c.add_argument("image")
    m = c.add_mutually_exclusive_group(required=True)
    m.add_argument("--mask", help="image: black (or transparent) = to fill")
    m.add_argument("--box", help="x,y,w,h of the region to fill")
    c.add_argument("--model", required=True)
    c.add_argument("--n", type=int, default=4)
    c.add_argument("--temperature", type=float, default=1.0)
    c.add_argument("--naive", action="store_true")
    c.add_argument("-o", "--output", type=Path, required=True)
    add_runtime_args(c)
    c.set_defaults(func=run_complete)
    declare_paths(c, {"image": "image", "mask": "image", "model": "model"}, {"output": "file"})


def run_train(args: argparse.Namespace) -> int:
    from photogen.pixelcnn.train import TrainConfig, train

    device = setup_runtime(args)
    cfg = TrainConfig(
        source=args.source, run_dir=str(args.name), patch=args.patch, steps=args.steps,
        batch_size=args.batch_size, lr=args.lr, flips=args.flips, grey=args.grey,
        size=args.image_size, hidden=args.hidden, layers=args.layers, output=args.output,
        mixtures=args.mixtures, conditional=args.conditional, save_every=args.save_every,
        sample_every=args.sample_every, val_every=args.val_every, seed=args.seed,
    )  # fmt: skip

    def bar(**kw):
        return tqdm(desc="train", unit="step", disable=args.quiet, **kw)

    summary = train(cfg, device, args.resume, progress=bar, log=lambda m: info(args, m))
    info(args, f"{summary['steps']} steps, held-out {summary['val_bits_per_dim']} bits/dim "
               f"-> {args.name}")  # fmt: skip
    return 0


def _rows_bar(args, rows: int, label: str):
    bar = tqdm(total=rows, desc=label, unit="row", disable=args.quiet)
    return bar, bar.update


def run_sample(args: argparse.Namespace) -> int:
    from photogen.pixelcnn.sample import sample
    from photogen.pixelcnn.train import load_model, sample_grid

    device = setup_runtime(args)
    size = parse_size(args.size) if "x" in args.size or int(args.size) >= 16 else None
    if size is None:
        raise UsageError("--size must be N or HxW, at least 16")
    model = load_model(args.model).to(device)
    y = None
    if model.config.num_classes:
        label = 0 if args.label is None else args.label
        y = torch.full((args.n,), label, dtype=torch.long, device=device)
    bar, update = _rows_bar(args, size[0], "sample")
    x = sample(model, args.n, size, fast=not args.naive, temperature=args.temperature,
               seed=args.seed, y=y, progress=update)  # fmt: skip
    bar.close()
    if args.output.suffix:
        save_image(sample_grid(x, cols=min(4, args.n)), args.output)
    else:
        for k in range(args.n):
            save_image(x[k : k + 1].float() / 255.0, args.output / f"sample_{k:02d}.png")
    info(args, f"{args.n} samples of {size[1]}x{size[0]} -> {args.output}")
    return 0


def _parse_box(text: str, h: int, w: int) -> torch.Tensor:
    try:
        x, y, bw, bh = (int(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"--box {text!r}: expected x,y,w,h integers") from None
    if bw < 1 or bh < 1 or x < 0 or y < 0 or x + bw > w or y + bh > h:
        raise UsageError(f"--box {text!r} does not fit in the {w}x{h} image")
    mask = torch.ones(h, w, dtype=torch.bool)
    mask[y : y + bh, x : x + bw] = False
    return mask


def run_complete(args: argparse.Namespace) -> int:
    from photogen.pixelcnn.data import to_levels
    from photogen.pixelcnn.sample import complete
    from photogen.pixelcnn.train import load_model

    device = setup_runtime(args)
    model = load_model(args.model).to(device)
    image = read_image(args.image, max_pixels=args.max_pixels)
    if model.config.channels == 1:
        image = image.mean(1, keepdim=True)
    levels = to_levels(image)[0]
    h, w = levels.shape[-2:]
    if args.box:
        mask = _parse_box(args.box, h, w)
    else:
        m = read_image(args.mask, keep_alpha=True, max_pixels=args.max_pixels)[0]
        if m.shape[-2:] != (h, w):
            raise UsageError(f"--mask is {m.shape[-1]}x{m.shape[-2]}, the image {w}x{h}")
        mask = (m[:3].mean(0) > 0.5) & (m[3] > 0.5)
    if mask.all():
        raise UsageError("nothing to complete: the mask hides no pixel")
    rows = int((~mask).any(1).nonzero().max()) + 1
    bar, update = _rows_bar(args, h, "complete")
    x = complete(model, levels, mask, args.n, fast=not args.naive, temperature=args.temperature,
                 seed=args.seed, progress=update)  # fmt: skip
    bar.close()
    shown = levels.clone()[None].expand(1, -1, -1, -1).clone()
    shown[:, :, ~mask] = 128  # the occlusion in grey
    from photogen.pixelcnn.train import sample_grid

    panel = torch.cat([shown, levels[None], x])
    save_image(sample_grid(panel, cols=len(panel)), args.output)
    info(args, f"occluded | original | {args.n} completions ({rows} rows) -> {args.output}")
    return 0
