"""``photogen learn``: the foundations, with pictures.

``perceptron`` · ``playground`` · ``cnn DATASET --name RUN`` · ``gan DATASET --name RUN``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tqdm import tqdm

from photogen.cli.common import add_runtime_args, info, setup_runtime
from photogen.cli.paths import declare_paths

DATASET_HELP = (
    "'fashion-mnist' (Debian dataset-fashion-mnist), 'digits' (opencv-doc, 20x20) "
    "or 'sklearn-digits' (scikit-learn, 8x8)"
)


def add_parser(sub) -> None:
    from photogen.learn.toy import DATASETS

    p = sub.add_parser(
        "learn",
        help="foundations: perceptron, MLP playground, CNN classifier, DCGAN",
        description="The four ideas the generators stand on, each trained here and drawn.",
    )
    cmds = p.add_subparsers(dest="learn_command", required=True, metavar="COMMAND")

    pc = cmds.add_parser(
        "perceptron",
        help="Rosenblatt's perceptron on a 2-D dataset",
        description="Train y = sign(w.x + b) with w <- w + gamma (y - y') x "
        "(gamma decreasing per epoch). Says whether the data were separated "
        "or the pocket weights (fewest errors) were kept; draws the line.",
    )
    pc.add_argument("--dataset", choices=DATASETS, default="gauss")
    pc.add_argument("--points", type=int, default=400)
    pc.add_argument("--noise", type=float, default=0.0, help="0 (clean) .. 1")
    pc.add_argument("--epochs", type=int, default=100)
    pc.add_argument("--gamma", type=float, default=1.0, help="initial learning rate")
    pc.add_argument("-o", "--output", type=Path, default=None, help="PNG of the decision line")
    add_runtime_args(pc)
    pc.set_defaults(func=run_perceptron)
    declare_paths(pc, {}, {"output": "file"})

    pg = cmds.add_parser(
        "playground",
        help="the lecture's MLP figures (numpy backprop)",
        description="Decision regions for 3, 6, 20 hidden units on gauss, xor, "
        "circle and spiral; several L2 weights; the loss surface of a two-weight "
        "model with the gradient-descent path; training curves. PNGs + "
        "OUT/index.html.",
    )
    pg.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    pg.add_argument("--noise", type=float, default=0.1)
    pg.add_argument("--points", type=int, default=400)
    pg.add_argument("--epochs", type=int, default=200)
    pg.add_argument("--lr", type=float, default=0.05)
    pg.add_argument("--activation", choices=["tanh", "sigmoid", "relu"], default="tanh")
    add_runtime_args(pg)
    pg.set_defaults(func=run_playground)
    declare_paths(pg, {}, {"output": "folder"})

    cn = cmds.add_parser(
        "cnn",
        help="train a small CNN classifier",
        description=f"DATASET: {DATASET_HELP}. Writes RUN/model.safetensors, "
        "checkpoint.pt (--resume continues exactly), log.csv, confusion matrix, "
        "first-layer filters, feature maps, index.html.",
    )
    cn.add_argument("dataset")
    cn.add_argument("--name", type=Path, required=True, help="run folder")
    cn.add_argument("--epochs", type=int, default=8)
    cn.add_argument("--batch-size", type=int, default=64)
    cn.add_argument("--lr", type=float, default=1e-3)
    cn.add_argument("--width", type=int, default=32, help="conv1 channels (conv2 has twice)")
    cn.add_argument(
        "--flips",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="horizontal-flip augmentation (default: on for fashion-mnist only)",
    )
    _common_training(cn)
    cn.set_defaults(func=run_cnn)
    declare_paths(cn, {"dataset": "dataset"}, {"name": "folder"})

    gn = cmds.add_parser(
        "gan",
        help="train a DCGAN (optionally class-conditional)",
        description=f"DATASET: {DATASET_HELP}. Prints the two losses and the "
        "Frechet distance to the test set in a CNN judge's features per epoch; "
        "writes samples/epoch_N.png, losses.png, interpolation.png, "
        "generator.safetensors, checkpoint.pt (--resume exact), index.html.",
    )
    gn.add_argument("dataset")
    gn.add_argument("--name", type=Path, required=True, help="run folder")
    gn.add_argument("--epochs", type=int, default=10)
    gn.add_argument("--batch-size", type=int, default=64)
    gn.add_argument("--lr", type=float, default=2e-4)
    gn.add_argument("--nz", type=int, default=64, help="noise dimensions")
    gn.add_argument(
        "--conditional",
        action="store_true",
        help="class-conditional G and D; also scores the judge's accuracy",
    )
    gn.add_argument(
        "--judge",
        default=None,
        help="run folder of 'learn cnn' on the same data (default: train one first)",
    )
    gn.add_argument("--judge-epochs", type=int, default=2)
    gn.add_argument("--eval-samples", type=int, default=2000)
    _common_training(gn)
    gn.set_defaults(func=run_gan)
    declare_paths(gn, {"dataset": "dataset", "judge": "model"}, {"name": "folder"})


def _common_training(p) -> None:
    p.add_argument(
        "--limit", type=int, default=None, help="use a fixed random subset of N training images"
    )
    p.add_argument("--test-limit", type=int, default=None, help="... and of N test images")
    p.add_argument("--save-every", type=int, default=200, help="checkpoint every N steps")
    p.add_argument("--resume", action="store_true", help="continue the run in --name exactly")
    add_runtime_args(p)


def _bar(args):
    def make(**kw):
        return tqdm(desc="train", unit="step", disable=args.quiet, **kw)

    return make


def run_perceptron(args: argparse.Namespace) -> int:
    import numpy as np

    from photogen.learn.perceptron import train_perceptron
    from photogen.learn.playground import _draw_regions
    from photogen.learn.toy import make_dataset

    X, y = make_dataset(args.dataset, args.points, args.noise, seed=args.seed)
    result = train_perceptron(X, y, epochs=args.epochs, gamma0=args.gamma, seed=args.seed)
    info(
        args,
        f"perceptron on {args.dataset}: {result.summary(len(X))}; "
        f"w = {np.round(result.w, 3).tolist()}, b = {result.b:.3f}",
    )
    if args.output:
        from photogen.core.gallery import pyplot, save_figure

        fig, ax = pyplot().subplots(figsize=(4, 4), dpi=100)
        score = lambda p: np.tanh((p @ result.w + result.b) / np.linalg.norm(result.w))  # noqa: E731
        _draw_regions(
            ax,
            score,
            X,
            y,
            X[:0],
            y[:0],
            f"{args.dataset}: {len(X) - result.errors}/{len(X)} correct"
            + ("" if result.converged else " (pocket)"),
        )
        fig.tight_layout()
        save_figure(fig, args.output)
        info(args, f"-> {args.output}")
    return 0


def run_playground(args: argparse.Namespace) -> int:
    from photogen.learn.playground import PlaygroundConfig, make_playground

    cfg = PlaygroundConfig(
        points=args.points,
        noise=args.noise,
        epochs=args.epochs,
        lr=args.lr,
        activation=args.activation,
        seed=args.seed,
    )
    out = make_playground(args.output, cfg)
    best = ", ".join(
        f"{k} {100 * v:.0f}%"
        for k, v in out["accuracy"].items()
        if k.split(" / ")[1] == "20 hidden"
    )
    info(args, f"test accuracy with 20 hidden units: {best} ({out['seconds']} s) -> {out['index']}")
    return 0


def run_cnn(args: argparse.Namespace) -> int:
    from photogen.learn.cnn import CNNConfig, train_cnn

    device = setup_runtime(args)
    cfg = CNNConfig(
        args.dataset,
        str(args.name),
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        width=args.width,
        flips=args.flips,
        limit=args.limit,
        test_limit=args.test_limit,
        save_every=args.save_every,
        seed=args.seed,
    )
    s = train_cnn(cfg, device, args.resume, progress=_bar(args), log=lambda m: info(args, m))
    info(
        args,
        f"test accuracy {100 * s['test_accuracy']:.2f}% after {s['epochs']} epochs "
        f"({s['train_seconds']} s training) -> {args.name}/index.html",
    )
    return 0


def run_gan(args: argparse.Namespace) -> int:
    from photogen.learn.gan_train import GANConfig, train_gan

    device = setup_runtime(args)
    cfg = GANConfig(
        args.dataset,
        str(args.name),
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        nz=args.nz,
        conditional=args.conditional,
        judge=args.judge,
        judge_epochs=args.judge_epochs,
        eval_samples=args.eval_samples,
        limit=args.limit,
        test_limit=args.test_limit,
        save_every=args.save_every,
        seed=args.seed,
    )
    s = train_gan(cfg, device, args.resume, progress=_bar(args), log=lambda m: info(args, m))
    info(args, json.dumps(s) if not args.quiet else "")
    return 0
