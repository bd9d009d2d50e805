"""A plain, literal re-implementation of the PyTorch "Neural Transfer" tutorial algorithm.

Structure as in the tutorial: a Normalization module, then the network's layers in an
``nn.Sequential`` with ContentLoss/StyleLoss modules inserted after the chosen layers and
everything after the last loss cut off; targets computed once while building; L-BFGS with
default settings, ``optimizer.step(closure)`` until ``num_steps`` evaluations, the image
clamped in place inside the closure; single scale, float32, contiguous (NCHW) tensors.

To compare like with like, the loss modules use photogen's loss formulas (normalised Gram
and content losses, TV) with the same weights, so both implementations minimise the same
objective with the same network; only the algorithm differs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from photogen.gatys.losses import content_loss, gram_matrix, tv_loss


class ContentLoss(nn.Module):
    def __init__(self, target):
        super().__init__()
        self.target = target.detach()
        self.loss = torch.zeros(())

    def forward(self, x):
        # The tutorial needs style and content of one size; we allow any style size, so the
        # content loss skips the style image's pass while the model is being built.
        if x.shape == self.target.shape:
            self.loss = content_loss(x, self.target)
        return x


class StyleLoss(nn.Module):
    def __init__(self, target_feature, weight=1.0):
        super().__init__()
        self.target = gram_matrix(target_feature).detach()
        self.weight = weight
        self.loss = torch.zeros(())

    def forward(self, x):
        g = gram_matrix(x)
        self.loss = self.weight * (g - self.target).pow(2).sum() / self.target.pow(2).sum()
        return x


class Normalization(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def sequential_layers(net) -> list[tuple[str, nn.Module]]:
    """The network as (name, module) pairs in forward order, as the tutorial walks ``cnn``."""
    if hasattr(net, "_blocks"):  # EfficientNet-Lite
        stem = nn.Sequential(net._conv_stem, net._bn0, nn.ReLU6())
        return [("stem", stem)] + [(f"block{i}", b) for i, b in enumerate(net._blocks)]
    return list(zip(net.layer_names, net.features, strict=True))  # VGG19


def build_model(net, style_img, content_img, content_layer, style_layers):
    """The tutorial's get_style_model_and_losses()."""
    model = nn.Sequential(Normalization(net.normalize))
    content_losses, style_losses = [], []
    wanted = set(style_layers) | {content_layer}
    for name, layer in sequential_layers(net):
        if isinstance(layer, nn.ReLU):
            layer = nn.ReLU(inplace=False)
        model.add_module(name, layer)
        if name == content_layer:
            cl = ContentLoss(model(content_img).detach())
            model.add_module(f"content_loss_{name}", cl)
            content_losses.append(cl)
        if name in style_layers:
            sl = StyleLoss(model(style_img).detach(), style_layers[name])
            model.add_module(f"style_loss_{name}", sl)
            style_losses.append(sl)
        wanted.discard(name)
        if not wanted:
            break
    return model.eval().requires_grad_(False), style_losses, content_losses


def run_style_transfer(
    net,
    content_img,
    style_img,
    content_layer,
    style_layers,
    num_steps=300,
    style_weight=1e3,
    content_weight=1.0,
    tv_weight=2.0,
):
    """The tutorial's run_style_transfer(); returns (image, losses per evaluation)."""
    model, style_losses, content_losses = build_model(
        net, style_img, content_img, content_layer, style_layers
    )
    input_img = content_img.clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS([input_img])
    run = [0]
    losses = []
    while run[0] < num_steps:

        def closure():
            with torch.no_grad():
                input_img.clamp_(0, 1)
            optimizer.zero_grad()
            model(input_img)
            style_score = sum(sl.loss for sl in style_losses)
            content_score = sum(cl.loss for cl in content_losses)
            loss = style_weight * style_score + content_weight * content_score
            loss = loss + tv_weight * tv_loss(input_img)
            loss.backward()
            run[0] += 1
            losses.append(float(loss.detach()))
            return loss

        optimizer.step(closure)
    with torch.no_grad():
        input_img.clamp_(0, 1)
    return input_img.detach(), losses


def resize_like_photogen(style, size, style_scale=1.0):
    scale = style_scale * max(size) / max(style.shape[-2:])
    s_size = (max(16, round(style.shape[2] * scale)), max(16, round(style.shape[3] * scale)))
    return F.interpolate(style, size=s_size, mode="bilinear", antialias=True, align_corners=False)
