"""Training a fast style network (Johnson et al. 2016) with photogen's Gatys losses.

Each step: a batch of random crops of content photographs goes through the transformation
network; the loss is the Gatys content loss (the feature network's content layer, against the
photos' own features), the Gram style loss against the style picture's Gram matrices (the
network's style layers), and total variation, with the weights photogen's ``stylize`` uses for
that feature network. Adam; a checkpoint (network, optimiser, step, random state) written
atomically every ``save_every`` steps, so a killed run resumes where it was; a gallery of
held-out photos (never trained on) every ``gallery_every`` steps; the model itself as
safetensors with its config.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from photogen.core.atomic import write_text_atomic
from photogen.core.image import list_images, read_image, save_image
from photogen.core.resample import resize
from photogen.core.training import TrainingRun
from photogen.core.weights import load_run_model, save_safetensors
from photogen.faststyle.network import FastStyleConfig, TransformNet
from photogen.gatys.losses import content_loss, style_loss, style_targets, tv_loss
from photogen.nets.features import NETWORKS, FeatureExtractor, build_network

FORMAT = "photogen-faststyle"
# Johnson et al. take the content loss at VGG's relu2_2, a shallow layer, not Gatys' relu4_2:
# a feed-forward network does not start from the photo as Gatys' optimisation does, and a deep
# content layer let it paint over the pixels (block7 on EfficientNet-Lite0: content loss 0.11
# with the photo hardly visible). The layer at the same depth for each network:
FAST_CONTENT = {"efficientnet_lite0": "block2", "vgg19": "relu2_2", "random_multiscale": "scale1"}
FAST_STYLE_WEIGHT = 0.25  # see TrainConfig.style_weight (chosen on EfficientNet-Lite0)
# never trained on: the gallery and the benchmark's quality (those installed: the last five
# come with Debian's opencv-doc)
HELD_OUT = ("chelsea", "astronaut", "coffee", "rocket", "motorcycle", "baboon", "fruits",
            "building", "messi5", "butterfly")  # fmt: skip


@dataclass
class TrainConfig:
    """Attributes follow the paper (256 px crops, batch 4, Adam 1e-3) and photogen's Gatys
    weights for the feature network."""

    style: str = ""
    steps: int = 2000
    size: int = 256
    batch: int = 4
    lr: float = 1e-3
    network: str = "efficientnet_lite0"
    content_weight: float = 1.0
    # None: FAST_STYLE_WEIGHT. Far below photogen stylize's 1e3: a network trained from
    # scratch has no photo to start from, and at any weight from 1 to 1e3 the style term's
    # gradient swamped the content's (the photos painted over, alike at 1, 4, 40, 120, 250);
    # at 0.05 and below the photos came through with a mere tint (probes of 200 steps, 128 px)
    style_weight: float | None = None
    tv_weight: float | None = None
    style_size: int = 384  # the style picture's longer side when its Grams are taken
    content_layer: str | None = None  # None: FAST_CONTENT[network] (Johnson et al.'s depth)
    channels: tuple[int, int, int] = (16, 32, 64)
    blocks: int = 3
    seed: int = 0
    save_every: int = 100
    gallery_every: int = 250

    def validate(self) -> None:
        if self.network not in NETWORKS:
            raise ValueError(f"unknown network {self.network!r}")
        if self.steps < 1 or self.batch < 1 or not 64 <= self.size <= 1024:
            raise ValueError("steps >= 1, batch >= 1 and size 64..1024 are needed")


def content_photos(folders: list[str] | None = None, side: int = 320) -> list[torch.Tensor]:
    """Content photographs, shrunk so the shorter side is ``side`` (kept in memory as uint8):
    the given folders, or every offline photograph (the sample photos but the held-out ones,
    and the Debian wallpapers when installed)."""
    from photogen.core.samples import photo_samples, sample_path, wallpapers

    if folders:
        paths = [p for f in folders for p in list_images(f)]
    else:
        paths = [sample_path(n) for n in photo_samples() if n not in HELD_OUT] + wallpapers()
    photos = []
    for path in paths:
        try:
            img = read_image(path, max_pixels=200_000_000)[:, :3]
        except Exception:  # noqa: BLE001 - a broken file is skipped, the rest used
            continue
        h, w = img.shape[-2:]
        s = side / min(h, w)
        if s < 1:
            img = resize(img, (max(side, round(h * s)), max(side, round(w * s))))
        if min(img.shape[-2:]) >= 64:
            photos.append(img.mul(255).round().to(torch.uint8))
    if not photos:
        raise ValueError("no content photographs found")
    return photos


def random_batch(photos: list[torch.Tensor], n: int, size: int,
                 gen: torch.Generator | None = None) -> torch.Tensor:  # fmt: skip
    """``n`` random crops (a random scale, then ``size`` x ``size``) with random flips, drawn
    from ``gen`` (default the global generator)."""
    out = []
    for _ in range(n):
        img = photos[int(torch.randint(len(photos), (), generator=gen))]
        h, w = img.shape[-2:]
        side = int(min(h, w) * (0.6 + 0.4 * float(torch.rand((), generator=gen))))
        y = int(torch.randint(0, h - side + 1, (), generator=gen))
        x = int(torch.randint(0, w - side + 1, (), generator=gen))
        crop = resize(img[..., y : y + side, x : x + side].float() / 255, (size, size))
        if float(torch.rand((), generator=gen)) < 0.5:
            crop = crop.flip(-1)
        out.append(crop)
    return torch.cat(out).clamp(0, 1)


def save_model(model: TransformNet, path: Path, meta: dict) -> None:
    metadata = {"format": FORMAT, "config": json.dumps(model.config.to_dict()),
                **{k: str(v) for k, v in meta.items()}}  # fmt: skip
    save_safetensors(model.state_dict(), path, metadata)


def load_model(path: str | Path) -> TransformNet:
    """A trained style network: a bundled name (:data:`photogen.faststyle.models.BUNDLED`),
    ``model.safetensors`` or its run folder."""
    from photogen.faststyle.models import BUNDLED, bundled_path

    if str(path) in BUNDLED:
        path = bundled_path(str(path))
    return load_run_model(path, FORMAT, lambda c: TransformNet(FastStyleConfig.from_dict(c)),
                          f"a style model: a bundled name ({', '.join(BUNDLED) or 'none'}), "
                          "a run folder or model.safetensors")  # fmt: skip


def train(config: TrainConfig, run_dir: str | Path, resume: bool = False,
          content: list[str] | None = None, device: torch.device | str = "cpu",
          log: Callable[[str], None] = print,
          stop_after: int | None = None) -> Path:  # fmt: skip
    """Train (or resume) a style network into ``run_dir``; returns ``model.safetensors``.
    ``stop_after``: leave after that many steps of this call (tests of resuming). Under
    ``torchrun`` each process draws its own batches (seed + rank) and the gradients are
    averaged (DistributedDataParallel); rank 0 writes."""
    config.validate()
    job = TrainingRun(run_dir, resume, config.seed, device)
    device, run = job.device, job.dir
    spec = NETWORKS[config.network]
    style_layers = dict(spec.style_layers)
    content_layer = config.content_layer or FAST_CONTENT.get(config.network, spec.content_layer)
    sw = config.style_weight if config.style_weight is not None else FAST_STYLE_WEIGHT
    tvw = config.tv_weight if config.tv_weight is not None else spec.tv_weight
    extractor = FeatureExtractor(build_network(config.network),
                                 [*style_layers, content_layer]).to(device)  # fmt: skip
    style = read_image(config.style)[:, :3]
    h, w = style.shape[-2:]
    s = config.style_size / max(h, w)
    style = resize(style, (max(16, round(h * s)), max(16, round(w * s)))).to(device)
    with torch.no_grad():
        targets = style_targets({k: v for k, v in extractor(style).items() if k in style_layers})
    torch.manual_seed(config.seed)  # the same initial weights on every rank
    model = TransformNet(FastStyleConfig(tuple(config.channels), config.blocks)).to(device)
    net = job.wrap(model)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    job.seed_rank()  # the batches: the global generator, its state per rank in checkpoints
    step, log_rows = 0, []
    payload = job.restore(model=model, optimizer=opt)
    if payload is not None:
        step, log_rows = int(payload["step"]), list(payload["log"])
    if job.main:
        write_text_atomic(run / "config.json", json.dumps(asdict(config), indent=2))
    photos = content_photos(content)
    from photogen.core.samples import available_samples, load_sample

    here = available_samples()  # the gallery: the first four held-out photos installed
    held = [resize(load_sample(n), (256, 256)) for n in HELD_OUT if n in here][:4]
    if not job.main:
        log = lambda message: None  # noqa: E731 - rank 0 speaks
    log(f"{len(photos)} content photos, style {config.style}, {config.network}, "
        f"{config.steps} steps from step {step}, {job.world} process(es)")  # fmt: skip
    model.train()
    t0, done_here = time.perf_counter(), 0
    while step < config.steps:
        x = random_batch(photos, config.batch, config.size).to(device)
        y = net(x)
        with torch.no_grad():
            target_c = extractor(x)[content_layer]
        feats = extractor(y)
        lc = content_loss(feats[content_layer], target_c)
        ls = style_loss({k: feats[k] for k in style_layers}, targets, style_layers)
        ls = ls / config.batch
        lt = tv_loss(y)
        loss = config.content_weight * lc + sw * ls + tvw * lt
        if not torch.isfinite(loss):  # a diverged run: stop before it overwrites good files
            saved = step - step % config.save_every
            raise FloatingPointError(
                f"the loss became {float(loss)} at step {step + 1}: training diverged; the "
                f"files of step {saved} are kept (a lower learning rate or style weight, or "
                f"the slim network, may train)")  # fmt: skip
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        done_here += 1
        loss, lc, ls, lt = loss.detach(), lc.detach(), ls.detach(), lt.detach()
        log_rows.append({"step": step, "loss": float(loss), "content": float(lc),
                         "style": float(ls), "tv": float(lt)})  # fmt: skip
        if step % 10 == 0:
            rate = done_here / (time.perf_counter() - t0)
            log(f"step {step}/{config.steps}: loss {float(loss):.4g} (content {float(lc):.3g}, "
                f"style {float(ls):.3g}), {rate:.2f} steps/s")  # fmt: skip
        last = step == config.steps or (stop_after is not None and done_here >= stop_after)
        if step % config.save_every == 0 or last:
            job.save(model=model, optimizer=opt, step=step, log=log_rows)
            if job.main:
                save_model(model, run / "model.safetensors",
                           {"style": Path(config.style).name, "steps": step,
                            "network": config.network})  # fmt: skip
        if job.main and (step % config.gallery_every == 0 or last):
            model.eval()
            with torch.no_grad():
                grid = torch.cat([torch.cat([h_, model(h_.to(device)).cpu()], -2) for h_ in held],
                                 -1)  # fmt: skip
            save_image(grid, run / f"gallery_{step:06d}.png")
            model.train()
        if stop_after is not None and done_here >= stop_after:
            break
    if job.main:
        write_text_atomic(run / "log.json", json.dumps(log_rows))
    job.finish()
    return run / "model.safetensors"
