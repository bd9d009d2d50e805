"""A literal, functional transcription of pytorch-fid's FID Inception (``FIDInceptionA``,
``FIDInceptionC``, ``FIDInceptionE_1``, ``FIDInceptionE_2`` over torchvision's Inception-v3
blocks), computed straight from a state dict. Test reference only: it shares no code with
``photogen.nets.inception``.

The details that make it the FID network and not torchvision's: the input is resized to
299x299 (bilinear, ``align_corners=False``) and scaled to ``2x - 1``; the average pools of the A,
C and first E blocks exclude the padding (``count_include_pad=False``); the last E block's pool
branch is a 3x3 max pool with stride 1 and padding 1; features = the global average pool.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def pool3_features(sd: dict[str, torch.Tensor], images: torch.Tensor) -> torch.Tensor:
    def conv(name, x, stride=1, padding=None):
        w = sd[f"{name}.conv.weight"]
        if padding is None:
            padding = (w.shape[2] // 2, w.shape[3] // 2)
        y = F.conv2d(x, w, None, stride, padding)
        y = F.batch_norm(
            y, sd[f"{name}.bn.running_mean"], sd[f"{name}.bn.running_var"],
            sd[f"{name}.bn.weight"], sd[f"{name}.bn.bias"], False, 0.0, 0.001,
        )  # fmt: skip
        return F.relu(y)

    def avg_excl(x):
        return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)

    def block_a(m, x):
        b1 = conv(f"{m}.branch1x1", x)
        b5 = conv(f"{m}.branch5x5_2", conv(f"{m}.branch5x5_1", x))
        b3 = conv(f"{m}.branch3x3dbl_1", x)
        b3 = conv(f"{m}.branch3x3dbl_3", conv(f"{m}.branch3x3dbl_2", b3))
        bp = conv(f"{m}.branch_pool", avg_excl(x))
        return torch.cat([b1, b5, b3, bp], 1)

    def block_b(m, x):
        b3 = conv(f"{m}.branch3x3", x, stride=2, padding=0)
        d = conv(f"{m}.branch3x3dbl_2", conv(f"{m}.branch3x3dbl_1", x))
        d = conv(f"{m}.branch3x3dbl_3", d, stride=2, padding=0)
        return torch.cat([b3, d, F.max_pool2d(x, kernel_size=3, stride=2)], 1)

    def block_c(m, x):
        b1 = conv(f"{m}.branch1x1", x)
        b7 = x
        for i in (1, 2, 3):
            b7 = conv(f"{m}.branch7x7_{i}", b7)
        d = x
        for i in (1, 2, 3, 4, 5):
            d = conv(f"{m}.branch7x7dbl_{i}", d)
        bp = conv(f"{m}.branch_pool", avg_excl(x))
        return torch.cat([b1, b7, d, bp], 1)

    def block_d(m, x):
        b3 = conv(f"{m}.branch3x3_2", conv(f"{m}.branch3x3_1", x), stride=2, padding=0)
        b7 = x
        for i in (1, 2, 3):
            b7 = conv(f"{m}.branch7x7x3_{i}", b7)
        b7 = conv(f"{m}.branch7x7x3_4", b7, stride=2, padding=0)
        return torch.cat([b3, b7, F.max_pool2d(x, kernel_size=3, stride=2)], 1)

    def block_e(m, x, pool):
        b1 = conv(f"{m}.branch1x1", x)
        b3 = conv(f"{m}.branch3x3_1", x)
        b3 = torch.cat([conv(f"{m}.branch3x3_2a", b3), conv(f"{m}.branch3x3_2b", b3)], 1)
        d = conv(f"{m}.branch3x3dbl_2", conv(f"{m}.branch3x3dbl_1", x))
        d = torch.cat([conv(f"{m}.branch3x3dbl_3a", d), conv(f"{m}.branch3x3dbl_3b", d)], 1)
        bp = conv(f"{m}.branch_pool", pool(x))
        return torch.cat([b1, b3, d, bp], 1)

    x = F.interpolate(images, size=(299, 299), mode="bilinear", align_corners=False)
    x = 2 * x - 1
    x = conv("Conv2d_1a_3x3", x, stride=2, padding=0)
    x = conv("Conv2d_2a_3x3", x, padding=0)
    x = conv("Conv2d_2b_3x3", x, padding=1)
    x = F.max_pool2d(x, kernel_size=3, stride=2)
    x = conv("Conv2d_3b_1x1", x, padding=0)
    x = conv("Conv2d_4a_3x3", x, padding=0)
    x = F.max_pool2d(x, kernel_size=3, stride=2)
    for m in ("Mixed_5b", "Mixed_5c", "Mixed_5d"):
        x = block_a(m, x)
    x = block_b("Mixed_6a", x)
    for m in ("Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"):
        x = block_c(m, x)
    x = block_d("Mixed_7a", x)
    x = block_e("Mixed_7b", x, avg_excl)
    x = block_e("Mixed_7c", x, lambda t: F.max_pool2d(t, kernel_size=3, stride=1, padding=1))
    return F.adaptive_avg_pool2d(x, 1).flatten(1)
