"""A small DCGAN (Radford et al. 2016), the "learned loss" idea the lecture gives before pix2pix.

Generator: noise (and, for the class-conditional variant, a one-hot label) -> a linear
projection to ``(2 ngf, S/4, S/4)`` -> two stride-2 transposed convolutions with batch norm and
ReLU -> tanh. Discriminator: two stride-2 convolutions with LeakyReLU(0.2) (batch norm on the
second, none on the input layer, as in the paper) -> one logit; the conditional variant sees the
label as one-hot planes stacked on the image (Mirza & Osindero 2014). Both start from
N(0, 0.02) weights and train with Adam (lr 2e-4, beta1 0.5) on the non-saturating loss.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def _init(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class Generator(nn.Module):
    def __init__(self, nz=64, size=28, channels=1, ngf=64, classes=0):
        super().__init__()
        if size % 4:
            raise ValueError(f"image side must be divisible by 4, got {size}")
        self.config = dict(nz=nz, size=size, channels=channels, ngf=ngf, classes=classes)
        s = size // 4
        self.project = nn.Sequential(
            nn.Linear(nz + classes, 2 * ngf * s * s, bias=False),
            nn.BatchNorm1d(2 * ngf * s * s),
            nn.ReLU(True),
        )
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * ngf, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, channels, 4, 2, 1),
            nn.Tanh(),
        )
        _init(self)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """``z (N, nz)`` -> images in [-1, 1]."""
        c = self.config
        if c["classes"]:
            z = torch.cat([z, F.one_hot(y, c["classes"]).to(z.dtype)], 1)
        s = c["size"] // 4
        return self.net(self.project(z).view(len(z), 2 * c["ngf"], s, s))


class Discriminator(nn.Module):
    def __init__(self, size=28, channels=1, ndf=64, classes=0):
        super().__init__()
        self.config = dict(size=size, channels=channels, ndf=ndf, classes=classes)
        s = size // 4
        self.net = nn.Sequential(
            nn.Conv2d(channels + classes, ndf, 4, 2, 1),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, 2 * ndf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(2 * ndf),
            nn.LeakyReLU(0.2, True),
            nn.Flatten(),
            nn.Linear(2 * ndf * s * s, 1),
        )
        _init(self)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Images in [-1, 1] -> one logit each (``> 0``: "real")."""
        k = self.config["classes"]
        if k:
            planes = F.one_hot(y, k).to(x.dtype)[:, :, None, None].expand(-1, -1, *x.shape[-2:])
            x = torch.cat([x, planes], 1)
        return self.net(x).squeeze(1)


def d_loss(D: Discriminator, real, fake, y=None) -> torch.Tensor:
    """-log D(x) - log(1 - D(G(z))), averaged over the batch."""
    lr, lf = D(real, y), D(fake, y)
    return F.binary_cross_entropy_with_logits(
        lr, torch.ones_like(lr)
    ) + F.binary_cross_entropy_with_logits(lf, torch.zeros_like(lf))


def g_loss(D: Discriminator, fake, y=None) -> torch.Tensor:
    """Non-saturating generator loss -log D(G(z)) (Goodfellow et al. 2014, section 3)."""
    lf = D(fake, y)
    return F.binary_cross_entropy_with_logits(lf, torch.ones_like(lf))


def gan_step(G, D, opt_g, opt_d, real, z, y=None) -> dict[str, float]:
    """One alternating update: D on a real and a generated batch, then G through the new D."""
    fake = G(z, y)
    loss_d = d_loss(D, real, fake.detach(), y)
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    loss_g = g_loss(D, fake, y)
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return {"loss_d": float(loss_d.detach()), "loss_g": float(loss_g.detach())}


def make_optimizers(G, D, lr: float = 2e-4, beta1: float = 0.5):
    adam = lambda m: torch.optim.Adam(m.parameters(), lr=lr, betas=(beta1, 0.999))  # noqa: E731
    return adam(G), adam(D)


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between rows of ``a`` and ``b`` at the fractions ``t``."""
    an, bn = F.normalize(a, dim=-1), F.normalize(b, dim=-1)
    omega = torch.acos((an * bn).sum(-1, keepdim=True).clamp(-1 + 1e-7, 1 - 1e-7))
    t = t[:, None, None]
    so = torch.sin(omega)
    return (torch.sin((1 - t) * omega) / so) * a + (torch.sin(t * omega) / so) * b
