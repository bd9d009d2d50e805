"""Zhang, Isola, Efros 2016, Sec. 2 and 3.1: squared error makes grey, washed-out colours (the
mean of a multimodal distribution); classification over ab bins, and class rebalancing on top,
make them vivid."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from photogen.core.gallery import pyplot, save_figure
from photogen.core.samples import wallpapers
from photogen.experiments import verdicts
from photogen.experiments.base import Experiment, Outcome, Settings, natural_photos

LOSSES = verdicts.COLORIZE_LOSSES  # one list: the verdict reads them by name


class RegressionColorizer(nn.Module):
    """The same network with a 2-channel head: ab / 110 regressed directly (the L2 baseline)."""

    def __init__(self):
        super().__init__()
        from photogen.colorize.train import build_model

        self.net = build_model("lite")  # ImageNet encoder, fresh decoder: as the others
        self.net.head = nn.Conv2d(self.net.head.in_channels, 2, 1)

    def logits(self, l_channel: torch.Tensor) -> torch.Tensor:  # (B, 2, H/4, W/4): ab / 110
        return self.net.logits(l_channel)

    def forward(self, l_channel: torch.Tensor) -> torch.Tensor:
        ab = self.logits(l_channel) * 110.0
        return F.interpolate(ab, size=l_channel.shape[-2:], mode="bilinear", align_corners=False)

    def parameters_to_train(self):
        from photogen.colorize.train import param_groups

        return param_groups(self.net, 5e-4)


def _train(kind: str, images, weights, steps: int, crop: int, seed: int, log) -> nn.Module:
    from photogen.colorize.bins import gamut_bins
    from photogen.colorize.data import random_crops, split_lab
    from photogen.colorize.train import build_model, colorization_loss, param_groups

    torch.manual_seed(seed)  # the same initial decoder and the same crops for every loss
    model = RegressionColorizer() if kind == LOSSES[0] else build_model("lite")
    groups = model.parameters_to_train() if kind == LOSSES[0] else param_groups(model, 5e-4)
    opt = torch.optim.Adam(groups, betas=(0.9, 0.99), weight_decay=1e-5)
    bins = gamut_bins()
    model.train()
    for step in range(steps):
        l_ch, ab = split_lab(random_crops(images, 8, crop))
        if kind == LOSSES[0]:
            pred = model.logits(l_ch)
            target = F.adaptive_avg_pool2d(ab, pred.shape[-2:]) / 110.0
            loss = F.mse_loss(pred, target)
        else:
            loss = colorization_loss(model.logits(l_ch), ab, weights[kind], bins)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (step + 1) % 50 == 0:
            log(f"colorize-loss: {kind}: step {step + 1}/{steps}, loss {float(loss.detach()):.4f}")
    return model.eval()


def colorize_loss(folder: Path, s: Settings) -> Outcome:
    from photogen.colorize.bins import gamut_bins, rebalance_weights
    from photogen.colorize.data import bin_histogram, load_photos, square_resize
    from photogen.colorize.evaluate import evaluate
    from photogen.colorize.pipeline import predict_ab
    from photogen.core.color import lab_to_rgb, rgb_to_lab
    from photogen.core.image import read_image, save_image
    from photogen.core.samples import sample_path

    paths = [sample_path(n) for n in natural_photos()]
    g = torch.Generator().manual_seed(s.seed)
    order = torch.randperm(len(paths), generator=g).tolist()
    held = [paths[i] for i in order[: max(2, len(paths) // 5)]]
    train_paths = [paths[i] for i in order[max(2, len(paths) // 5) :]]
    if not s.tiny:  # Debian's wallpaper photos, when installed: more, and more varied, scenes
        train_paths += wallpapers()
    images, _ = load_photos(train_paths, cache_side=192)
    counts = bin_histogram(images)
    prior = counts / counts.sum()
    weights = {LOSSES[1]: torch.ones(len(gamut_bins())), LOSSES[2]: rebalance_weights(prior)}
    steps = 40 if s.tiny else (1500 if s.full else 250)
    crop = 64 if s.tiny else 128
    models = {k: _train(k, images, weights, steps, crop, s.seed, s.log) for k in LOSSES}
    size = 64 if s.tiny else 224
    result = evaluate(models, held, size)
    rows = result["rows"]
    # the panel: held-out photos, grey | each loss | truth
    shown = held[: 4 if not s.tiny else 1]
    tiles = []
    for p in shown:
        rgb = square_resize(read_image(p), 192 if not s.tiny else 64)
        lab = rgb_to_lab(rgb)
        row = [lab_to_rgb(torch.cat([lab[:, :1], torch.zeros_like(lab[:, 1:])], 1))]
        for m in models.values():
            ab = predict_ab(m, lab[:, :1], rgb.shape[-1])
            row.append(lab_to_rgb(torch.cat([lab[:, :1], ab], 1)))
        row.append(rgb)
        tiles.append(torch.cat(row, -1))
    save_image(torch.cat(tiles, -2), folder / "colorize_losses.png")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=90)
    names = ["ground truth", *LOSSES]
    ax.bar(range(len(names)), [rows[n]["colourfulness"] for n in names],
           color=["0.6", "tab:blue", "tab:orange", "tab:green"])  # fmt: skip
    ax.set_xticks(range(len(names)), [n.replace(" + ", "\n+ ") for n in names], fontsize=8)
    ax.set(ylabel="colourfulness (Hasler & Suesstrunk)", title="held-out photos")
    fig.tight_layout()
    save_figure(fig, folder / "colourfulness.png")
    finding = ("colourfulness on " + f"{result['images']} held-out photos: "
               + ", ".join(f"{n} {rows[n]['colourfulness']:.1f}" for n in names)
               + "; AuC / rebalanced AuC: "
               + ", ".join(f"{n} {rows[n]['auc']:.1f} / {rows[n]['auc_rebalanced']:.1f}"
                           for n in LOSSES))  # fmt: skip
    setup = (f"lite colorizer (ImageNet EfficientNet-Lite0 encoder, fresh decoder, same seed), "
             f"{steps} Adam steps of 8 random {crop}px crops from {len(images)} offline photos "
             f"for each loss; {len(held)} other photos held out and scored at {size} px (grey ones "
             "skipped). Panel: "
             "grey | L2 | classification | + rebalancing | truth.")  # fmt: skip
    numbers = {k: {m: v for m, v in r.items() if not m.startswith("curve")}
               for k, r in rows.items()}  # fmt: skip
    return Outcome(setup, numbers, ["colorize_losses.png", "colourfulness.png"], finding)


EXPERIMENT = Experiment(
    "colorize-loss",
    "Squared error gives grey colours",
    "The same network trained with L2 regression on ab gives desaturated colours; 313-way "
    "classification with class rebalancing gives vivid ones (without rebalancing it stays "
    "dull too: the common, unsaturated bins win), at some cost in plain accuracy.",
    "Zhang, Isola, Efros 2016, Sec. 2 and 3.1, Table 1",
    run=colorize_loss,
    verdict=verdicts.colorize_loss,
)
