"""pix2pix networks (Isola et al. 2017) with the reference implementation's parameter names.

Generators: U-Net (``unet_256``: 8 down-samplings, ``unet_128``: 7) with skip connections and
dropout 0.5 in the three innermost decoder blocks; ResNet with 9 or 6 residual blocks.
Discriminators: the 70x70 PatchGAN (``basic`` = ``n_layers`` 3), any ``n_layers``, and the 1x1
``pixel`` GAN. The module tree is the one of the authors' PyTorch code, so ``state_dict`` keys
and shapes are identical (``model.model.0.weight`` ... for ``unet_256``) and the released
``latest_net_G.pth`` files load as they are (see :func:`load_generator`).

One detail of the reference kept on purpose: in a U-Net block the skip connection carries the
block input *after* the in-place LeakyReLU of its down path (the authors' ``LeakyReLU(0.2,
True)`` overwrites the tensor before ``torch.cat``). Released weights were trained that way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import nn

GENERATORS = ("unet_256", "unet_128", "resnet_9blocks", "resnet_6blocks")
DISCRIMINATORS = ("basic", "n_layers", "pixel")
NORMS = ("batch", "instance", "none")


def norm_layer(norm: str) -> Callable[[int], nn.Module]:
    """``batch`` (affine, running stats), ``instance`` (no affine, no stats) or ``none``."""
    if norm == "batch":
        return functools.partial(nn.BatchNorm2d, affine=True, track_running_stats=True)
    if norm == "instance":
        return functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)
    if norm == "none":
        return lambda channels: nn.Identity()
    raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {norm!r}")


def _use_bias(norm: str) -> bool:
    # Convolutions before a batch norm need no bias; the reference adds one for instance norm
    # (and, by its rule, not for 'none').
    return norm == "instance"


class UnetSkipConnectionBlock(nn.Module):
    """One level of the U-Net: down (LeakyReLU, conv 4x4/2, norm) -> inner -> up (ReLU,
    transposed conv 4x4/2, norm), then concatenation with the (activated) input."""

    def __init__(
        self,
        outer_nc: int,
        inner_nc: int,
        input_nc: int | None = None,
        submodule: nn.Module | None = None,
        outermost: bool = False,
        innermost: bool = False,
        norm: str = "batch",
        use_dropout: bool = False,
        skip: bool = True,
    ):
        super().__init__()
        self.outermost, self.skip = outermost, skip
        make_norm, bias = norm_layer(norm), _use_bias(norm)
        mult = 2 if skip else 1  # the level below hands up its input concatenated, or not
        input_nc = outer_nc if input_nc is None else input_nc
        downconv = nn.Conv2d(input_nc, inner_nc, kernel_size=4, stride=2, padding=1, bias=bias)
        downrelu = nn.LeakyReLU(0.2, True)
        uprelu = nn.ReLU(True)
        if outermost:
            upconv = nn.ConvTranspose2d(inner_nc * mult, outer_nc, kernel_size=4, stride=2,
                                        padding=1)  # fmt: skip
            layers = [downconv, submodule, uprelu, upconv, nn.Tanh()]
        elif innermost:
            upconv = nn.ConvTranspose2d(
                inner_nc, outer_nc, kernel_size=4, stride=2, padding=1, bias=bias
            )
            layers = [downrelu, downconv, uprelu, upconv, make_norm(outer_nc)]
        else:
            upconv = nn.ConvTranspose2d(
                inner_nc * mult, outer_nc, kernel_size=4, stride=2, padding=1, bias=bias
            )
            layers = [downrelu, downconv, make_norm(inner_nc), submodule, uprelu, upconv]
            layers.append(make_norm(outer_nc))
            if use_dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.outermost or not self.skip:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)  # x was activated in place by model[0]


class UnetGenerator(nn.Module):
    """U-Net with ``num_downs`` down-samplings (8 for 256x256 input: 256 -> 1)."""

    def __init__(
        self,
        input_nc: int = 3,
        output_nc: int = 3,
        num_downs: int = 8,
        ngf: int = 64,
        norm: str = "batch",
        use_dropout: bool = True,
        skips: bool = True,
    ):
        """``skips=False``: the same network without its skip connections, the plain
        encoder-decoder of Isola et al.'s Fig. 5 (same depth, down- and up-sampling)."""
        super().__init__()
        if num_downs < 5:
            raise ValueError(f"a U-Net needs at least 5 down-samplings, got {num_downs}")
        self.num_downs = num_downs
        kw = {"norm": norm, "skip": skips}
        block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, innermost=True, **kw)
        for _ in range(num_downs - 5):
            block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, submodule=block,
                                            use_dropout=use_dropout, **kw)  # fmt: skip
        block = UnetSkipConnectionBlock(ngf * 4, ngf * 8, submodule=block, **kw)
        block = UnetSkipConnectionBlock(ngf * 2, ngf * 4, submodule=block, **kw)
        block = UnetSkipConnectionBlock(ngf, ngf * 2, submodule=block, **kw)
        self.model = UnetSkipConnectionBlock(
            output_nc, ngf, input_nc=input_nc, submodule=block, outermost=True, **kw
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class ResnetBlock(nn.Module):
    """x + (pad, conv 3x3, norm, ReLU, [dropout], pad, conv 3x3, norm)(x)."""

    def __init__(self, dim: int, padding_type: str, norm: str, use_dropout: bool, bias: bool):
        super().__init__()
        make_norm = norm_layer(norm)
        pads = {"reflect": nn.ReflectionPad2d, "replicate": nn.ReplicationPad2d, "zero": None}
        if padding_type not in pads:
            raise ValueError(f"padding_type must be one of {', '.join(pads)}")
        pad, p = pads[padding_type], 0 if pads[padding_type] else 1
        layers: list[nn.Module] = [pad(1)] if pad else []
        layers += [nn.Conv2d(dim, dim, 3, padding=p, bias=bias), make_norm(dim), nn.ReLU(True)]
        if use_dropout:
            layers.append(nn.Dropout(0.5))
        layers += [pad(1)] if pad else []
        layers += [nn.Conv2d(dim, dim, 3, padding=p, bias=bias), make_norm(dim)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """Johnson et al.'s network: 7x7 conv, two stride-2 convs, ``n_blocks`` residual blocks,
    two transposed convs, 7x7 conv, tanh."""

    def __init__(
        self,
        input_nc: int = 3,
        output_nc: int = 3,
        ngf: int = 64,
        norm: str = "batch",
        use_dropout: bool = True,
        n_blocks: int = 9,
        padding_type: str = "reflect",
    ):
        super().__init__()
        make_norm, bias = norm_layer(norm), _use_bias(norm)
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(input_nc, ngf, kernel_size=7, padding=0, bias=bias),
            make_norm(ngf),
            nn.ReLU(True),
        ]
        for i in range(2):
            c = ngf * 2**i
            layers += [
                nn.Conv2d(c, c * 2, kernel_size=3, stride=2, padding=1, bias=bias),
                make_norm(c * 2),
                nn.ReLU(True),
            ]
        for _ in range(n_blocks):
            layers.append(ResnetBlock(ngf * 4, padding_type, norm, use_dropout, bias))
        for i in range(2):
            c = ngf * 2 ** (2 - i)
            layers += [
                nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1, bias=bias),
                make_norm(c // 2),
                nn.ReLU(True),
            ]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7, padding=0), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class PatchDiscriminator(nn.Module):
    """PatchGAN: ``n_layers`` stride-2 4x4 convs, one stride-1, then a 1-channel map of logits.

    ``n_layers=3`` is the 70x70 PatchGAN of the paper (each logit sees a 70x70 patch).
    """

    def __init__(self, input_nc: int = 6, ndf: int = 64, n_layers: int = 3, norm: str = "batch"):
        super().__init__()
        make_norm, bias = norm_layer(norm), _use_bias(norm)
        layers: list[nn.Module] = [
            nn.Conv2d(input_nc, ndf, kernel_size=4, stride=2, padding=1),
            nn.LeakyReLU(0.2, True),
        ]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers += [
                nn.Conv2d(ndf * prev, ndf * mult, 4, stride=stride, padding=1, bias=bias),
                make_norm(ndf * mult),
                nn.LeakyReLU(0.2, True),
            ]
        layers.append(nn.Conv2d(ndf * mult, 1, kernel_size=4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class PixelDiscriminator(nn.Module):
    """1x1 PatchGAN (PixelGAN): judges each pixel's colour given its input pixel."""

    def __init__(self, input_nc: int = 6, ndf: int = 64, norm: str = "batch"):
        super().__init__()
        make_norm, bias = norm_layer(norm), _use_bias(norm)
        self.net = nn.Sequential(
            nn.Conv2d(input_nc, ndf, kernel_size=1),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, kernel_size=1, bias=bias),
            make_norm(ndf * 2),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 2, 1, kernel_size=1, bias=bias),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def init_weights(net: nn.Module, gain: float = 0.02, generator: torch.Generator | None = None):
    """The paper's initialisation: conv weights ~ N(0, gain), biases 0, norm scales ~ N(1, gain)."""
    for m in net.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            nn.init.normal_(m.weight, 0.0, gain, generator=generator)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, gain, generator=generator)
            nn.init.zeros_(m.bias)
    return net


def define_G(
    netG: str = "unet_256",
    input_nc: int = 3,
    output_nc: int = 3,
    ngf: int = 64,
    norm: str = "batch",
    use_dropout: bool = True,
) -> nn.Module:
    """A generator by the reference's name (weights uninitialised: see :func:`init_weights`)."""
    if netG.startswith("unet_"):
        downs = {"unet_256": 8, "unet_128": 7}.get(netG)
        if downs is None:
            raise ValueError(f"netG must be one of {', '.join(GENERATORS)}, got {netG!r}")
        return UnetGenerator(input_nc, output_nc, downs, ngf, norm, use_dropout)
    blocks = {"resnet_9blocks": 9, "resnet_6blocks": 6}.get(netG)
    if blocks is None:
        raise ValueError(f"netG must be one of {', '.join(GENERATORS)}, got {netG!r}")
    return ResnetGenerator(input_nc, output_nc, ngf, norm, use_dropout, blocks)


def define_D(
    netD: str = "basic", input_nc: int = 6, ndf: int = 64, n_layers: int = 3, norm: str = "batch"
) -> nn.Module:
    """``basic`` (70x70 PatchGAN), ``n_layers`` (PatchGAN with ``n_layers``) or ``pixel``."""
    if netD == "basic":
        return PatchDiscriminator(input_nc, ndf, 3, norm)
    if netD == "n_layers":
        return PatchDiscriminator(input_nc, ndf, n_layers, norm)
    if netD == "pixel":
        return PixelDiscriminator(input_nc, ndf, norm)
    raise ValueError(f"netD must be one of {', '.join(DISCRIMINATORS)}, got {netD!r}")


def min_input_size(netG: str) -> int:
    """The side lengths a generator accepts are multiples of this."""
    return {"unet_256": 256, "unet_128": 128}.get(netG, 4)
