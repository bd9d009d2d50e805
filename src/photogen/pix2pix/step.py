"""The pix2pix objective and one training iteration (Isola et al. 2017, Sec. 3.1 and 3.3).

G minimises cGAN + lambda * L1 (lambda = 100); D minimises the cGAN loss on (input, target)
as real and (input, G(input)) as fake, halved "to slow down the rate at which D learns
relative to G". One iteration is exactly the authors' ``optimize_parameters``: G forward;
D step on the detached fake and the real pair; G step through the updated D (whose weights
need no gradient then). Differences are speed only: gradients set to None, fused Adam,
optional channels_last and bf16 autocast, and under DDP the two D calls of the D step go
through one DDP forward (batch norm still sees fake and real separately, as in the paper).
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from torch import nn

GAN_MODES = ("vanilla", "lsgan")


def gan_loss(prediction: torch.Tensor, target_is_real: bool, mode: str = "vanilla") -> torch.Tensor:
    """Vanilla GAN (BCE with logits) or LSGAN (least squares) against an all-1/all-0 target."""
    target = torch.full_like(prediction, 1.0 if target_is_real else 0.0)
    prediction = prediction.float()
    if mode == "vanilla":
        return F.binary_cross_entropy_with_logits(prediction, target.float())
    if mode == "lsgan":
        return F.mse_loss(prediction, target.float())
    raise ValueError(f"gan mode must be one of {', '.join(GAN_MODES)}, got {mode!r}")


class DiscriminatorPair(nn.Module):
    """D on (input, fake) and on (input, real) in one forward call, each normalised alone."""

    def __init__(self, netD: nn.Module):
        super().__init__()
        self.netD = netD

    def forward(self, fake_ab: torch.Tensor, real_ab: torch.Tensor):
        return self.netD(fake_ab), self.netD(real_ab)


def make_optimizer(params, lr: float, beta1: float, device: torch.device) -> torch.optim.Adam:
    """Adam(lr, (beta1, 0.999)); fused kernels where this torch has them for the device."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, betas=(beta1, 0.999), fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(params, lr=lr, betas=(beta1, 0.999), foreach=device.type != "cpu")


class Pix2PixStep:
    """One iteration of pix2pix training on a batch ``(real_A, real_B)`` in ``[-1, 1]``.

    Args:
        netG, netD: the networks (possibly DDP-wrapped: ``netD`` is then a wrapped
            :class:`DiscriminatorPair`; pass the plain discriminator as ``plain_D``).
        bf16: autocast forward passes to bfloat16 (losses stay float32).
    """

    def __init__(
        self,
        netG: nn.Module,
        netD: nn.Module,
        optG: torch.optim.Optimizer,
        optD: torch.optim.Optimizer,
        lambda_l1: float = 100.0,
        gan_mode: str = "vanilla",
        plain_D: nn.Module | None = None,
        bf16: bool = False,
        channels_last: bool = False,
        lambda_gan: float = 1.0,
    ):
        """``lambda_gan``: weight of G's adversarial loss (0: L1 alone, the paper's Fig. 4
        baseline; D is then not trained)."""
        self.lambda_gan = lambda_gan
        self.netG, self.pairD = netG, netD
        self.plain_D = plain_D if plain_D is not None else _unwrap(netD).netD
        self.optG, self.optD = optG, optD
        self.lambda_l1, self.gan_mode = lambda_l1, gan_mode
        self.bf16, self.channels_last = bf16, channels_last

    def _autocast(self, device: torch.device):
        if not self.bf16:
            return contextlib.nullcontext()
        return torch.autocast(device.type, dtype=torch.bfloat16)

    def __call__(self, real_A: torch.Tensor, real_B: torch.Tensor) -> dict[str, float]:
        if self.channels_last:
            real_A = real_A.contiguous(memory_format=torch.channels_last)
            real_B = real_B.contiguous(memory_format=torch.channels_last)
        mode = self.gan_mode
        with self._autocast(real_A.device):
            fake_B = self.netG(real_A)
        zero = torch.zeros((), device=real_A.device)
        loss_D_fake = loss_D_real = loss_G_GAN = zero
        if self.lambda_gan > 0:
            # D: fake (detached) and real pairs, halved.
            self.plain_D.requires_grad_(True)
            with self._autocast(real_A.device):
                pred_fake, pred_real = self.pairD(
                    torch.cat((real_A, fake_B.detach().to(real_A.dtype)), 1),
                    torch.cat((real_A, real_B), 1),
                )
            loss_D_fake = gan_loss(pred_fake, False, mode)
            loss_D_real = gan_loss(pred_real, True, mode)
            loss_D = (loss_D_fake + loss_D_real) * 0.5
            self.optD.zero_grad(set_to_none=True)
            loss_D.backward()
            self.optD.step()
            # G: fool the updated D, stay close to the target in L1.
            self.plain_D.requires_grad_(False)
            with self._autocast(real_A.device):
                pred = self.plain_D(torch.cat((real_A, fake_B.to(real_A.dtype)), 1))
            loss_G_GAN = gan_loss(pred, True, mode)
        loss_G_L1 = F.l1_loss(fake_B.float(), real_B.float()) * self.lambda_l1
        loss_G = self.lambda_gan * loss_G_GAN + loss_G_L1
        self.optG.zero_grad(set_to_none=True)
        loss_G.backward()
        self.optG.step()
        self.fake_B = fake_B.detach()
        return {
            "G_GAN": float(loss_G_GAN.detach()),
            "G_L1": float(loss_G_L1.detach()),
            "D_real": float(loss_D_real.detach()),
            "D_fake": float(loss_D_fake.detach()),
        }


def _unwrap(module: nn.Module) -> nn.Module:
    return module.module if hasattr(module, "module") else module
