"""``lite``: photogen's own small colorization network, trainable on a CPU.

The objective is Zhang et al.'s (313 bin logits at 1/4 resolution, class-rebalanced soft
cross-entropy, annealed-mean decoding); the network is smaller. Encoder: EfficientNet-Lite0
with its ImageNet weights (offline, Apache-2.0), its RGB stem collapsed to one L input channel
(the three input weights summed: exact for a grey image), up to its stride-32 stage. Decoder: a
small feature pyramid (lateral 1x1 convs from strides 16, 8 and 4, nearest x2 upsampling,
3x3 convs with batch norm) back to stride 4, then a 1x1 convolution to the 313 logits. The
ImageNet features carry the semantics ("sky", "grass", "skin") that make colour guessable,
which a network trained from scratch on a few hundred photos could not learn.

About 3.4M parameters (13.6 MB in float32); 2.4 GFLOP at 256x256 (eccv16: 83.6).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from photogen.colorize.bins import gamut_bins
from photogen.nets.efficientnet_lite import EfficientNetLite, SamePadConv2d

# Indices of the last block of each stride inside EfficientNet-Lite0's 16 blocks.
_TAPS = {"s4": 2, "s8": 4, "s16": 10, "s32": 15}
_TAP_CHANNELS = {"s4": 24, "s8": 40, "s16": 112, "s32": 320}
FROZEN_BLOCKS = 3  # stem and blocks 0-2 (strides 2 and 4) stay at their ImageNet weights
HINT_SIGMAS = (1.0, 4.0, 16.0)  # widths of the hint propagation, in 1/4-resolution pixels


def _blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur with zero padding (right for a normalised convolution)."""
    radius = int(math.ceil(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    k = (k / k.sum()).view(1, 1, 1, -1).repeat(x.shape[1], 1, 1, 1)
    x = F.conv2d(x, k, padding=(0, radius), groups=x.shape[1])
    return F.conv2d(x, k.transpose(-1, -2), padding=(radius, 0), groups=x.shape[1])


def _conv_bn(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class LiteColorizer(nn.Module):
    """EfficientNet-Lite0 encoder + feature-pyramid decoder -> 313 ab-bin logits at 1/4.

    Same interface as :class:`photogen.colorize.models.ECCV16`: ``logits(L)`` for training,
    ``forward(L)`` -> ab ``(B, 2, H, W)`` by the annealed mean at ``temperature``. L is in
    [0, 100]; any H, W (padded to a multiple of 32 inside).

    With ``hints=True`` it is user-guided (Zhang et al. 2017): ``logits``/``forward`` also take
    ``hints_ab`` ``(B, 2, H, W)`` (ab of the hints, scaled by 1/110 inside) and ``hints_mask``
    ``(B, 1, H, W)`` (1 where a hint is), spread by a normalised convolution and carried by a
    small convolutional branch into the decoder at strides 4, 8 and 16 (see
    ``_hint_features``). The branch's output convolutions start at zero, so a hint
    model fine-tuned from the automatic one starts exactly as it.

    Args:
        width: decoder channels.
        temperature: annealing temperature of the decoding (0.38).
        hints: add the user-hint branch.
    """

    def __init__(self, width: int = 128, temperature: float = 0.38, hints: bool = False):
        super().__init__()
        self.temperature = temperature
        self.hints = hints
        enc = EfficientNetLite()
        self.stem = SamePadConv2d(1, 32, 3, 2, bias=False)
        self.stem_bn = enc._bn0
        self.blocks = enc._blocks
        self.lateral = nn.ModuleDict(
            {k: nn.Conv2d(c, width, 1) for k, c in _TAP_CHANNELS.items() if k != "s32"}
        )
        self.top = nn.Conv2d(_TAP_CHANNELS["s32"], width, 1)
        self.smooth = nn.ModuleDict({k: _conv_bn(width, width) for k in ("s16", "s8", "s4")})
        self.head = nn.Conv2d(width, 313, 1)
        self.register_buffer("bins", gamut_bins().clone(), persistent=False)
        if hints:
            channels = 3 * len(HINT_SIGMAS)
            self.hint_net = nn.Sequential(
                nn.Conv2d(channels, 64, 3, 1, 1), nn.ReLU(inplace=True),
                nn.Conv2d(64, 64, 3, 1, 2, dilation=2), nn.ReLU(inplace=True),
            )  # fmt: skip
            self.hint_out = nn.ModuleDict({k: nn.Conv2d(64, width, 1) for k in ("s4", "s8", "s16")})
            for conv in self.hint_out.values():
                nn.init.zeros_(conv.weight)
                nn.init.zeros_(conv.bias)

    @torch.no_grad()
    def load_encoder(self, state_dict: dict[str, torch.Tensor]) -> None:
        """Copy EfficientNet-Lite0 ImageNet weights into the encoder (stem summed over RGB)."""
        enc = EfficientNetLite()
        enc.load_state_dict(state_dict, strict=True)
        # The network sees (x*255-127)/128 for x in [0, 1]. With x = L/100 on all three
        # channels, the RGB stem equals a 1-channel stem with the summed weights.
        self.stem.weight.copy_(enc._conv_stem.weight.sum(1, keepdim=True))
        self.stem_bn.load_state_dict(enc._bn0.state_dict())
        self.blocks.load_state_dict(enc._blocks.state_dict())

    def frozen_parameters(self) -> list[nn.Parameter]:
        """The encoder's high-resolution part, kept at its ImageNet weights while training."""
        params = list(self.stem.parameters()) + list(self.stem_bn.parameters())
        for block in self.blocks[:FROZEN_BLOCKS]:
            params += list(block.parameters())
        return params

    def encoder_parameters(self) -> list[nn.Parameter]:
        """Trainable encoder parameters (fine-tuned with a smaller learning rate)."""
        return [p for b in self.blocks[FROZEN_BLOCKS:] for p in b.parameters()]

    def decoder_parameters(self) -> list[nn.Parameter]:
        mods = (self.lateral, self.top, self.smooth, self.head)
        return [p for m in mods for p in m.parameters()]

    def hint_parameters(self) -> list[nn.Parameter]:
        """The user-hint branch (trained faster: it starts from zero)."""
        if not self.hints:
            return []
        return list(self.hint_net.parameters()) + list(self.hint_out.parameters())

    def train(self, mode: bool = True) -> LiteColorizer:
        """Batch norms of the encoder keep their ImageNet statistics (small batches, grey input)."""
        super().train(mode)
        self.stem_bn.eval()
        for m in self.blocks.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
        return self

    def _hint_features(self, hints_ab, hints_mask, like: torch.Tensor, pads) -> dict:
        """Normalised convolution of the sparse hints (Knutsson & Westin 1993) at 1/4
        resolution and three widths: per width the local mean hint ab and a confidence; a small
        network turns them into additions to the decoder at strides 4, 8 and 16."""
        b, _, h, w = like.shape
        if hints_ab is None:
            hints_ab = like.new_zeros(b, 2, h, w)
        if hints_mask is None:
            hints_mask = like.new_zeros(b, 1, h, w)
        if hints_ab.shape[-2:] != (h, w) or hints_mask.shape[-2:] != (h, w):
            raise ValueError("hints must have the size of L")
        m = F.pad(hints_mask, pads)
        ab = F.pad(hints_ab / 110.0, pads) * m
        ab4, m4 = F.avg_pool2d(ab, 4) * 16, F.avg_pool2d(m, 4) * 16  # sums per 4x4 cell
        maps = []
        for sigma in HINT_SIGMAS:
            num, den = _blur(ab4, sigma), _blur(m4, sigma)
            maps += [num / (den + 1e-3), den / (den + 0.05)]
        f4 = self.hint_net(torch.cat(maps, 1))
        return {
            "s4": self.hint_out["s4"](f4),
            "s8": self.hint_out["s8"](F.avg_pool2d(f4, 2)),
            "s16": self.hint_out["s16"](F.avg_pool2d(f4, 4)),
        }

    def logits(
        self,
        l_channel: torch.Tensor,
        hints_ab: torch.Tensor | None = None,
        hints_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``(B, 1, H, W)`` L in [0, 100] -> ``(B, 313, ceil(H/4), ceil(W/4))`` bin logits
        (hints: see the class; ignored without the hint branch)."""
        if l_channel.dim() != 4 or l_channel.shape[1] != 1:
            raise ValueError(f"L must be (B, 1, H, W), got {tuple(l_channel.shape)}")
        if not self.hints and (hints_ab is not None or hints_mask is not None):
            raise ValueError("this colorizer takes no hints (build it with hints=True)")
        h, w = l_channel.shape[-2:]
        ph, pw = -h % 32, -w % 32
        x = (l_channel * 2.55 - 127.0) / 128.0
        hint = (
            self._hint_features(hints_ab, hints_mask, l_channel, (0, pw, 0, ph))
            if self.hints
            else {}
        )
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        x = F.relu6(self.stem_bn(self.stem(x)))
        taps = {}
        stop = {v: k for k, v in _TAPS.items()}
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in stop:
                taps[stop[i]] = x
        y = self.top(taps["s32"])
        for key in ("s16", "s8", "s4"):
            y = F.interpolate(y, scale_factor=2.0, mode="nearest") + self.lateral[key](taps[key])
            if key in hint:
                y = y + hint[key]
            y = self.smooth[key](y)
        out = self.head(y)
        return out[..., : (h + 3) // 4, : (w + 3) // 4]

    def forward(
        self,
        l_channel: torch.Tensor,
        hints_ab: torch.Tensor | None = None,
        hints_mask: torch.Tensor | None = None,
        temperature: float | None = None,
    ) -> torch.Tensor:
        """``(B, 1, H, W)`` L in [0, 100] -> ``(B, 2, H, W)`` ab (annealed mean, bilinear x4).
        ``temperature``: this call's (the module's own when None; nothing is modified, so
        threads may call one model with different temperatures)."""
        logits = self.logits(l_channel, hints_ab, hints_mask)
        t = self.temperature if temperature is None else temperature
        probs = torch.softmax(logits / t, dim=1)
        ab = torch.einsum("bqhw,qc->bchw", probs, self.bins.to(probs))
        h, w = l_channel.shape[-2:]
        return F.interpolate(ab, size=(h, w), mode="bilinear", align_corners=False)
