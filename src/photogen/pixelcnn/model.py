"""Gated PixelCNN (van den Oord et al., "Conditional Image Generation with PixelCNN Decoders",
2016), with the discretised logistic mixture output of PixelCNN++ (Salimans et al. 2017) as an
option.

Pixels are generated in raster order and, within a pixel, channel by channel (R -> G -> B).
Two stacks remove the blind spot of the original PixelCNN: a *vertical* stack sees the rows
above (its kernel covers the rows up to the current one and is only passed on shifted down by
one row), a *horizontal* stack sees the pixels to the left in the current row. Every feature
map is split into one group per image channel; at the current pixel a group may see the
groups before it (mask A, first layer) or up to itself (mask B, later layers), so the
predicted distribution of R depends only on earlier pixels, G also on the current R, and B on
the current R and G. Gates: ``tanh(a) * sigmoid(b)``; residual connections on the horizontal
stack; optional class conditioning (a learnt bias per class and layer).

The layer arithmetic is written out (``vertical_row``, ``horizontal_column``) so that the fast
sampler in :mod:`photogen.pixelcnn.sample` can run one row or one pixel of each layer with the
very weights the full forward uses.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class PixelCNNConfig:
    channels: int = 3  # image channels: 1 (grey) or 3 (RGB)
    hidden: int = 96  # feature maps per stack (a multiple of ``channels``)
    layers: int = 8  # gated layers
    kernel: int = 3  # kernel of the gated layers (odd)
    first_kernel: int = 7  # kernel of the first layer (odd), as in the paper
    levels: int = 256
    output: str = "softmax"  # or "logistic" (discretised logistic mixture, PixelCNN++)
    mixtures: int = 5
    num_classes: int = 0  # > 0: class-conditional

    def check(self) -> PixelCNNConfig:
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels}")
        if self.hidden % self.channels or self.kernel % 2 == 0 or self.first_kernel % 2 == 0:
            raise ValueError("hidden must be a multiple of channels; kernels must be odd")
        if self.output not in ("softmax", "logistic"):
            raise ValueError(f"output must be softmax or logistic, got {self.output!r}")
        return self

    def receptive_rows(self) -> int:
        """Rows above the current one that can influence it."""
        return self.first_kernel // 2 + 1 + (self.layers - 1) * (self.kernel // 2)

    def receptive_cols(self) -> int:
        """Columns to the left (and right, through the rows above) that can influence it."""
        return self.first_kernel // 2 + (self.layers - 1) * (self.kernel // 2)

    def to_dict(self) -> dict:
        return asdict(self)


def channel_groups(n: int, groups: int) -> torch.Tensor:
    """Group (image channel) of each of ``n`` feature maps: contiguous blocks."""
    return torch.arange(n) * groups // n


def group_mask(out_groups: torch.Tensor, in_groups: torch.Tensor, strict: bool) -> torch.Tensor:
    """``(out, in)`` connectivity at the current pixel: in-group < out-group (mask A) or <=."""
    o, i = out_groups[:, None], in_groups[None, :]
    return (i < o) if strict else (i <= o)


class GatedLayer(nn.Module):
    """One gated layer with both stacks. ``first``: mask A and no residual on the horizontal
    stack (its input is the image)."""

    def __init__(self, cin: int, hidden: int, groups: int, kernel: int, first: bool, classes: int):
        super().__init__()
        self.first, self.kernel, self.hidden, self.groups = first, kernel, hidden, groups
        k2 = kernel // 2
        self.v_conv = nn.Conv2d(cin, 2 * hidden, (k2 + 1, kernel))
        self.h_conv = nn.Conv2d(cin, 2 * hidden, (1, k2 + 1))
        self.link = nn.Conv2d(2 * hidden, 2 * hidden, 1)
        self.h_out = nn.Conv2d(hidden, hidden, 1)
        out_g = torch.cat([channel_groups(hidden, groups)] * 2)
        in_g = channel_groups(cin, groups)
        current = group_mask(out_g, in_g, strict=first).float()
        mask = torch.ones(2 * hidden, cin, 1, k2 + 1)
        mask[:, :, 0, -1] = current  # the last column is the current pixel
        self.register_buffer("h_mask", mask, persistent=False)
        hg = channel_groups(hidden, groups)
        self.register_buffer("out_mask", group_mask(hg, hg, False).float()[:, :, None, None],
                             persistent=False)  # fmt: skip
        self.cond = nn.Embedding(classes, 4 * hidden) if classes else None

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        a, b = x.chunk(2, dim=1)
        return torch.tanh(a) * torch.sigmoid(b)

    def _cond(self, y: torch.Tensor | None) -> tuple[torch.Tensor | float, torch.Tensor | float]:
        if self.cond is None or y is None:
            return 0.0, 0.0
        c = self.cond(y)[:, :, None, None]
        return c[:, : 2 * self.hidden], c[:, 2 * self.hidden :]

    def forward(self, v: torch.Tensor, h: torch.Tensor, y: torch.Tensor | None = None):
        k2 = self.kernel // 2
        cv, ch = self._cond(y)
        v_pre = self.v_conv(F.pad(v, (k2, k2, k2, 0)))
        v_shift = F.pad(v_pre, (0, 0, 1, 0))[:, :, :-1]  # row r gets row r - 1
        h_pre = F.conv2d(F.pad(h, (k2, 0, 0, 0)), self.h_conv.weight * self.h_mask,
                         self.h_conv.bias) + self.link(v_shift)  # fmt: skip
        h_new = F.conv2d(self.gate(h_pre + ch), self.h_out.weight * self.out_mask, self.h_out.bias)
        return self.gate(v_pre + cv), (h_new if self.first else h + h_new)

    # -- pieces for the fast sampler: the same arithmetic on one row / one pixel --------------
    def vertical_row(self, v_rows: torch.Tensor, y=None) -> tuple[torch.Tensor, torch.Tensor]:
        """``v_rows``: the ``kernel//2 + 1`` input rows ending at row r (zero rows above the
        image) -> (gated output at row r, pre-activation at row r), each ``(B, C, 1, W)``."""
        k2 = self.kernel // 2
        cv, _ = self._cond(y)
        v_pre = self.v_conv(F.pad(v_rows, (k2, k2, 0, 0)))
        return self.gate(v_pre + cv), v_pre

    def horizontal_column(
        self, h_cols: torch.Tensor, v_pre_above: torch.Tensor, y=None
    ) -> torch.Tensor:
        """``h_cols``: the ``kernel//2 + 1`` input columns ending at column j (zeros left of the
        image), ``v_pre_above``: the vertical pre-activation one row up at column j
        -> the layer's horizontal output at the pixel, ``(B, C, 1, 1)``.

        The same sums as the convolutions of :meth:`forward`, written as matrix products:
        on one pixel a convolution call costs ~1 ms of set-up, a product ~10 us."""
        _, ch = self._cond(y)
        n = h_cols.shape[0]
        w_h = (self.h_conv.weight * self.h_mask).flatten(1)
        h_pre = F.linear(h_cols.flatten(1), w_h, self.h_conv.bias)
        h_pre = h_pre + F.linear(
            v_pre_above.flatten(1), self.link.weight.flatten(1), self.link.bias
        )
        if isinstance(ch, torch.Tensor):
            h_pre = h_pre + ch.flatten(1)
        w_o = (self.h_out.weight * self.out_mask).flatten(1)
        h_new = F.linear(self.gate(h_pre), w_o, self.h_out.bias).view(n, -1, 1, 1)
        return h_new if self.first else h_cols[..., -1:] + h_new


class PixelCNN(nn.Module):
    """Gated PixelCNN over images with values in ``0 .. levels-1``.

    ``forward(x)`` takes integer images ``(B, C, H, W)`` and returns, for ``softmax``, logits
    ``(B, C, levels, H, W)``; for ``logistic``, mixture parameters ``(B, 10 K, H, W)``
    (RGB) or ``(B, 3 K, H, W)`` (grey).
    """

    def __init__(self, config: PixelCNNConfig | None = None):
        super().__init__()
        cfg = (config or PixelCNNConfig()).check()
        self.config = cfg
        c, f = cfg.channels, cfg.hidden
        self.layers_ = nn.ModuleList(
            [GatedLayer(c, f, c, cfg.first_kernel, True, cfg.num_classes)]
            + [GatedLayer(f, f, c, cfg.kernel, False, cfg.num_classes)
               for _ in range(cfg.layers - 1)]
        )  # fmt: skip
        if cfg.output == "softmax":
            n_out = c * cfg.levels
            out_g = torch.arange(n_out) // cfg.levels
        else:  # mixture parameters come from the first group only (causal at the pixel)
            n_out = cfg.mixtures * (10 if c == 3 else 3)
            out_g = torch.zeros(n_out, dtype=torch.long)
        self.head1 = nn.Conv2d(f, f, 1)
        self.head2 = nn.Conv2d(f, n_out, 1)
        hg = channel_groups(f, c)
        self.register_buffer("mask1", group_mask(hg, hg, False).float()[:, :, None, None],
                             persistent=False)  # fmt: skip
        self.register_buffer("mask2", group_mask(out_g, hg, False).float()[:, :, None, None],
                             persistent=False)  # fmt: skip

    def scale(self, x: torch.Tensor) -> torch.Tensor:
        """Integer levels -> network input in ``[-1, 1]``."""
        return x.float() * (2.0 / (self.config.levels - 1)) - 1.0

    def head(self, h: torch.Tensor) -> torch.Tensor:
        h = F.conv2d(F.relu(h), self.head1.weight * self.mask1, self.head1.bias)
        return F.conv2d(F.relu(h), self.head2.weight * self.mask2, self.head2.bias)

    def head_pixel(self, h: torch.Tensor) -> torch.Tensor:
        """:meth:`head` on ``(B, C)`` features of one pixel, as matrix products."""
        h = F.linear(F.relu(h), (self.head1.weight * self.mask1).flatten(1), self.head1.bias)
        return F.linear(F.relu(h), (self.head2.weight * self.mask2).flatten(1), self.head2.bias)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.forward_scaled(self.scale(x).to(self.head1.weight.dtype), y)

    def forward_scaled(self, v: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The network on inputs already scaled to ``[-1, 1]`` (differentiable in them)."""
        h = v
        for layer in self.layers_:
            v, h = layer(v, h, y)
        out = self.head(h)
        if self.config.output == "softmax":
            b, _, hh, ww = out.shape
            return out.view(b, self.config.channels, self.config.levels, hh, ww)
        return out

    def nll(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Negative log-likelihood in nats per image, ``(B,)``."""
        out = self(x, y)
        if self.config.output == "softmax":
            logp = F.log_softmax(out.float(), dim=2)
            return -logp.gather(2, x.long().unsqueeze(2)).squeeze(2).sum(dim=(1, 2, 3))
        from photogen.pixelcnn.logistic import mixture_log_prob

        return -mixture_log_prob(out.float(), x, self.config.levels).sum(dim=(1, 2))

    def bits_per_dim(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Mean negative log2-likelihood per sub-pixel: the papers' bits/dim."""
        return self.nll(x, y).mean() / (x[0].numel() * math.log(2))
