"""``photogen pix2pix``: image-to-image translation (Isola et al. 2017).

``train DATA --name RUN`` · ``test DATA --name RUN`` · ``apply IMAGE|DIR|VIDEO --model M -o OUT``
(cli/pix2pix_apply.py) ·
``export --model M OUT.onnx`` · ``make-pairs edges|gray|blur PHOTOS OUT`` ·
``make-pairs combine A_DIR B_DIR OUT`` · ``make-pairs facades OUT``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from tqdm import tqdm

from photogen.cli.common import (
    add_precision_arg,
    add_runtime_args,
    error,
    info,
    resolve_precision,
    setup_runtime,
)
from photogen.cli.paths import declare_paths
from photogen.cli.pix2pix_apply import _mode_args, _run_meta, add_apply_parser
from photogen.pix2pix.data import DIRECTIONS
from photogen.pix2pix.networks import DISCRIMINATORS, GENERATORS, NORMS
from photogen.pix2pix.step import GAN_MODES

_TRAIN_FLAGS = [  # flag, type, default, help  (the reference's option names)
    ("--netG", str, "unet_256", "unet_256, unet_128, resnet_9blocks or resnet_6blocks"),
    ("--netD", str, "basic", "basic (70x70 PatchGAN), n_layers or pixel"),
    ("--n-layers-D", int, 3, "layers of an n_layers discriminator"),
    ("--ngf", int, 64, "generator filters in the last conv layer"),
    ("--ndf", int, 64, "discriminator filters in the first conv layer"),
    ("--norm", str, "batch", "batch, instance or none"),
    ("--gan-mode", str, "vanilla", "vanilla (BCE) or lsgan"),
    ("--lambda-L1", float, 100.0, "weight of the L1 term"),
    ("--lr", float, 2e-4, "Adam learning rate"),
    ("--beta1", float, 0.5, "Adam beta1"),
    ("--n-epochs", int, 100, "epochs at the initial learning rate"),
    ("--n-epochs-decay", int, 100, "epochs of linear decay to zero"),
    ("--batch-size", int, 1, "per process"),
    ("--load-size", int, 286, "resize to this, then random crop"),
    ("--crop-size", int, 256, "training crop"),
    ("--direction", str, "AtoB", "AtoB or BtoA"),
    ("--max-steps", int, None, "stop after this many steps (checkpointed; --resume continues)"),
    ("--save-every", int, 500, "checkpoint every N steps (and at the end)"),
    ("--display-every", int, 400, "write RUN/web/index.html every N steps"),
    ("--cache-gb", float, 2.0, "decoded pairs kept in memory"),
]


def add_parser(sub) -> None:
    p = sub.add_parser(
        "pix2pix",
        help="image-to-image translation with conditional GANs (Isola et al. 2017)",
        description="pix2pix: U-Net + PatchGAN, L1 + cGAN. Released models by name "
        "(edges2shoes, sat2map, map2sat, facades_label2photo, day2night; downloaded once).",
    )
    cmds = p.add_subparsers(dest="pix2pix_command", required=True, metavar="COMMAND")

    t = cmds.add_parser(
        "train",
        help="train on aligned pairs",
        description="Train on DATA (A|B side-by-side images, or A/ and B/ folders; DATA/train "
        "is used when present, DATA/val for the preview page). Writes RUN/checkpoint.pt, "
        "generator.safetensors, log.csv, loss.png, web/index.html. --resume continues exactly "
        "(optimizers, schedulers, RNG, data order). Under torchrun: DDP.",
    )
    t.add_argument("data", help="dataset folder")
    t.add_argument("--name", required=True, type=Path, help="run folder")
    choices = {"--netG": GENERATORS, "--netD": DISCRIMINATORS, "--norm": NORMS,
               "--gan-mode": GAN_MODES, "--direction": DIRECTIONS}  # fmt: skip
    for flag, typ, default, text in _TRAIN_FLAGS:
        t.add_argument(flag, type=typ, default=default, choices=choices.get(flag),
                       help=f"{text} (default {default})")  # fmt: skip
    t.add_argument("--no-dropout", action="store_true", help="generator without dropout")
    t.add_argument("--no-flip", action="store_true", help="no random mirroring")
    t.add_argument("--bf16", action="store_true", help="bfloat16 autocast (CPUs with AMX, GPUs)")
    t.add_argument("--channels-last", action="store_true", help="NHWC memory format (GPUs)")
    t.add_argument("--resume", action="store_true", help="continue the run in --name")
    add_runtime_args(t)
    t.set_defaults(func=run_train)
    declare_paths(t, {"data": "folder"}, {"name": "folder"})

    te = cmds.add_parser(
        "test",
        help="translate a test set, score it, write a results page",
        description="Translate DATA/test (or DATA/val, or DATA) with a generator; write "
        "OUT/index.html (input, output, target), metrics.json (L1, PSNR, SSIM, FID) and "
        "per_image.json. FID[lite0] (default, offline) uses EfficientNet-Lite0 features and is "
        "not comparable to published FIDs; --fid inception is.",
    )
    te.add_argument("data", help="dataset folder")
    src = te.add_mutually_exclusive_group(required=True)
    src.add_argument("--name", type=Path, help="run folder of 'pix2pix train'")
    src.add_argument("--model", help="released name or weights file")
    te.add_argument("--phase", default="test", help="sub-folder to use when present")
    te.add_argument(
        "--direction", default=None, choices=DIRECTIONS, help="default: the run's, else AtoB"
    )
    te.add_argument("--size", type=int, default=None, help="network input (default: the run's)")
    te.add_argument(
        "--fid",
        default="lite0",
        help="FID features: lite0 (offline, not comparable to published FIDs), inception (the "
        "FID definition's network, weights pt_inception downloaded or installed), or none",
    )
    te.add_argument("--max-images", type=int, default=None)
    te.add_argument("-o", "--output", type=Path, default=None, help="default RUN/test")
    _mode_args(te)
    add_precision_arg(te, default="fp32")  # the scores it reports are float32's unless asked
    add_runtime_args(te)
    te.set_defaults(func=run_test)
    declare_paths(te, {"data": "folder", "name": "model", "model": "model"}, {"output": "folder"})

    add_apply_parser(cmds)

    ex = cmds.add_parser(
        "export",
        help="export a generator to ONNX",
        description="ONNX export (opset 17, dynamic batch). Batch norm is exported as per-image "
        "normalisation (what the paper's test mode computes) unless --eval; dropout is not "
        "exported.",
    )
    ex.add_argument("output", type=Path, help="file.onnx")
    ex.add_argument("--model", required=True, help="released name, weights file or run folder")
    ex.add_argument("--size", type=int, default=256, help="input side")
    ex.add_argument("--eval", action="store_true", help="use running batch-norm statistics")
    ex.add_argument("--check", action="store_true", help="compare with onnxruntime (1e-4)")
    add_runtime_args(ex)
    ex.set_defaults(func=run_export)
    declare_paths(ex, {"model": "model"}, {"output": "file"})

    mp = cmds.add_parser("make-pairs", help="build a dataset from photos", description=(
        "Build A|B pairs: 'edges|gray|blur PHOTOS OUT' derive A from each photo; 'combine "
        "A_DIR B_DIR OUT' joins matching files; 'facades OUT' renders synthetic labels->facades."
    ))  # fmt: skip
    kinds = mp.add_subparsers(dest="kind", required=True, metavar="KIND")
    for kind, text in (("edges", "Canny edges -> photo"), ("gray", "grey -> colour"),
                       ("blur", "blurred -> sharp")):  # fmt: skip
        k = kinds.add_parser(kind, help=text, description=f"{text} pairs from photos.")
        k.add_argument("photos", nargs="+", help="photo files or folders (recursive)")
        k.add_argument("output", type=Path, help="output folder")
        k.add_argument("--size", type=int, default=256, help="side of A and B")
        k.add_argument("--no-crop", action="store_true", help="squash instead of centre crop")
        if kind == "edges":
            k.add_argument("--low", type=float, default=0.12, help="Canny low threshold")
            k.add_argument("--high", type=float, default=0.25, help="Canny high threshold")
            k.add_argument("--sigma", type=float, default=2.0, help="Canny smoothing")
            k.add_argument("--min-length", type=int, default=12, help="shortest edge kept (px)")
        if kind == "blur":
            k.add_argument("--sigma", type=float, default=3.0, help="Gaussian blur sigma")
        add_runtime_args(k)
        k.set_defaults(func=run_make_pairs)
        declare_paths(k, {"photos": "photos"}, {"output": "folder"})
    c = kinds.add_parser("combine", help="join A_DIR/x and B_DIR/x as A|B")
    c.add_argument("a_dir", type=Path)
    c.add_argument("b_dir", type=Path)
    c.add_argument("output", type=Path)
    add_runtime_args(c)
    c.set_defaults(func=run_combine)
    declare_paths(c, {"a_dir": "folder", "b_dir": "folder"}, {"output": "folder"})
    f = kinds.add_parser("facades", help="synthetic labels -> facade pairs (train/ and test/)")
    f.add_argument("output", type=Path)
    f.add_argument("--count", type=int, default=200, help="training pairs")
    f.add_argument("--test-count", type=int, default=20, help="test pairs")
    f.add_argument("--size", type=int, default=256)
    add_runtime_args(f)
    f.set_defaults(func=run_facades)
    declare_paths(f, {}, {"output": "folder"})


def _bar(args, desc: str, unit: str = "step"):
    def make(it=None, **kw):
        return tqdm(it, desc=desc, unit=unit, disable=args.quiet, **kw)

    return make


def run_train(args: argparse.Namespace) -> int:
    from photogen.pix2pix.train import TrainConfig, train

    device = setup_runtime(args)
    cfg = TrainConfig(
        data=args.data, run_dir=str(args.name), netG=args.netG, netD=args.netD,
        n_layers_D=args.n_layers_D, ngf=args.ngf, ndf=args.ndf, norm=args.norm,
        no_dropout=args.no_dropout, gan_mode=args.gan_mode, lambda_l1=args.lambda_L1, lr=args.lr,
        beta1=args.beta1, n_epochs=args.n_epochs, n_epochs_decay=args.n_epochs_decay,
        batch_size=args.batch_size, load_size=args.load_size, crop_size=args.crop_size,
        no_flip=args.no_flip, direction=args.direction, seed=args.seed, max_steps=args.max_steps,
        save_every=args.save_every, display_every=args.display_every, bf16=args.bf16,
        channels_last=args.channels_last, cache_gb=args.cache_gb,
    )  # fmt: skip
    if args.resume:
        cfg = _resumed_config(cfg, Path(args.name), args)
    summary = train(
        cfg, device, resume=args.resume, progress=_bar(args, "train"),
        log=lambda m: info(args, m), on_error=error,
    )  # fmt: skip
    last = summary["last"]
    losses = ", ".join(f"{k} {last[k]}" for k in ("G_L1", "G_GAN", "D_real", "D_fake") if k in last)
    info(args, f"{summary['steps']} steps ({losses}) -> {args.name}")
    return 0


# What a command line may change when a run resumes; everything else is the run's own.
_RESUME_MAY_CHANGE = {"max_steps", "save_every", "display_every", "cache_gb", "bf16",
                      "channels_last"}  # fmt: skip


def _resumed_config(cfg, run: Path, args: argparse.Namespace):
    """``--resume`` continues the run as it was configured (network, data, schedule): its
    config.json wins over this command line's defaults, so the flags need not be repeated."""
    import dataclasses
    import json

    path = run / "config.json"
    if not path.is_file():
        return cfg
    saved = json.loads(path.read_text())
    names = {f.name for f in dataclasses.fields(cfg)} - _RESUME_MAY_CHANGE - {"run_dir"}
    changes = {k: saved[k] for k in names if k in saved}
    differ = [k for k, v in changes.items() if getattr(cfg, k) != v]
    if differ:
        info(args, f"resuming with the run's own {', '.join(sorted(differ))}")
    return dataclasses.replace(cfg, **changes)


def run_test(args: argparse.Namespace) -> int:
    from photogen.pix2pix.infer import run_test as test
    from photogen.pix2pix.models import load_generator

    device = setup_runtime(args)
    meta = _run_meta(args.name) if args.name else {}
    G = load_generator(str(args.name or args.model))
    out = args.output or ((args.name / "test") if args.name else Path("pix2pix-test"))
    direction = args.direction or meta.get("direction", "AtoB")
    size = args.size or int(meta.get("crop_size", 256))
    summary = test(
        G, args.data, out, direction, size, args.phase, None if args.fid == "none" else args.fid,
        args.max_images, device, progress=_bar(args, "test", "img"), log=error,
        eval_mode=args.eval, seed=args.seed, precision=resolve_precision(args, device),
    )  # fmt: skip
    if not args.quiet:
        print(json.dumps(summary, indent=2))
    info(args, f"results page -> {out / 'index.html'}")
    return 1 if summary.get("skipped") else 0


def run_export(args: argparse.Namespace) -> int:
    from photogen.pix2pix.export import export_onnx, exportable, onnx_predict
    from photogen.pix2pix.models import load_generator

    setup_runtime(args)
    G = load_generator(args.model)
    path = export_onnx(G, args.output, args.size, args.eval)
    msg = f"-> {path} ({path.stat().st_size / 1e6:.1f} MB)"
    if args.check:
        in_ch = next(m for m in G.modules() if isinstance(m, torch.nn.Conv2d)).in_channels
        gen = torch.Generator().manual_seed(0)
        x = torch.rand(2, in_ch, args.size, args.size, generator=gen) * 2 - 1
        with torch.no_grad():
            ref = exportable(G, args.eval)(x)
        err = float((onnx_predict(path, x) - ref).abs().max())
        if err > 1e-4:
            raise RuntimeError(f"onnxruntime differs from PyTorch by {err:.2e} (> 1e-4)")
        msg += f"; onnxruntime matches PyTorch to {err:.1e}"
    info(args, msg)
    return 0


def run_make_pairs(args: argparse.Namespace) -> int:
    from photogen.pix2pix.pairs import make_pairs

    setup_runtime(args)
    options = {}
    if args.kind == "edges":
        options = dict(low=args.low, high=args.high, sigma=args.sigma, min_length=args.min_length)
    elif args.kind == "blur":
        options = dict(sigma=args.sigma)
    written, failed = make_pairs(
        args.kind, args.photos, args.output, args.size, not args.no_crop, on_error=error,
        progress=_bar(args, args.kind, "img"), **options,
    )  # fmt: skip
    info(args, f"{written} pairs -> {args.output}" + (f" ({failed} skipped)" if failed else ""))
    return 1 if failed else 0


def run_combine(args: argparse.Namespace) -> int:
    from photogen.pix2pix.pairs import combine

    setup_runtime(args)
    written, failed = combine(args.a_dir, args.b_dir, args.output, on_error=error)
    info(args, f"{written} pairs -> {args.output}" + (f" ({failed} skipped)" if failed else ""))
    return 1 if failed else 0


def run_facades(args: argparse.Namespace) -> int:
    from photogen.pix2pix.facades import make_facades

    setup_runtime(args)
    make_facades(args.output, args.count, args.size, args.seed, args.test_count,
                 progress=_bar(args, "facades", "img"))  # fmt: skip
    info(args, f"{args.count} train + {args.test_count} test pairs -> {args.output}")
    return 0
