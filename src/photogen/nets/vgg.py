"""VGG19 (Simonyan & Zisserman 2015) with torchvision's exact state-dict keys and shapes.

``vgg19().state_dict()`` has the keys ``features.0.weight`` ... ``classifier.6.bias`` of
torchvision's ``vgg19``, so ``vgg19-dcbb9e9d.pth`` loads with ``strict=True``. Layers are
addressable by name (``conv1_1``, ``relu1_1``, ``pool1``, ``conv4_2`` ...). Note that in the
Caffe model used by Gatys et al., ``conv`` blobs were rectified in place, so the paper's
``conv1_1`` corresponds to our ``relu1_1``.
"""

from __future__ import annotations

import torch
from torch import nn

from photogen.core.weights import WeightsEntry, load_state_dict
from photogen.nets.base import FeatureNet

VGG19_WEIGHTS = WeightsEntry(
    name="vgg19",
    filename="vgg19-dcbb9e9d.pth",
    url="https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
    sha256="dcbb9e9d",
    description="VGG19 ImageNet weights (torchvision)",
)

_CFG19 = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M"] + [512] * 4 + ["M"]
_CFG19 += [512] * 4 + ["M"]
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _layer_names(cfg) -> list[str]:
    names, block, idx = [], 1, 1
    for v in cfg:
        if v == "M":
            names.append(f"pool{block}")
            block, idx = block + 1, 1
        else:
            names += [f"conv{block}_{idx}", f"relu{block}_{idx}"]
            idx += 1
    return names


class VGG19(FeatureNet):
    """VGG19; ``extract`` returns named activations, ``forward`` ImageNet logits.

    Input: ``(B, 3, H, W)`` sRGB in [0, 1], normalised inside with ImageNet mean/std.
    """

    def __init__(self, pooling: str = "max", num_classes: int = 1000):
        super().__init__()
        if pooling not in ("max", "avg"):
            raise ValueError(f"pooling must be 'max' or 'avg', got {pooling!r}")
        layers: list[nn.Module] = []
        cin = 3
        for v in _CFG19:
            if v == "M":
                pool = nn.MaxPool2d if pooling == "max" else nn.AvgPool2d
                layers.append(pool(kernel_size=2, stride=2))
            else:
                layers += [nn.Conv2d(cin, v, kernel_size=3, padding=1), nn.ReLU(inplace=False)]
                cin = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(),
            nn.Linear(4096, num_classes),
        )
        self.layer_names = _layer_names(_CFG19)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """[0, 1] sRGB -> ImageNet-normalised input."""
        return (x - self.mean) / self.std

    def extract(self, x: torch.Tensor, layers: set[str] | list[str]) -> dict[str, torch.Tensor]:
        """Named activations of ``x``, stopping after the deepest one asked for."""
        wanted = self.wanted_layers(layers)
        out: dict[str, torch.Tensor] = {}
        h = self.normalize(x)
        for name, module in zip(self.layer_names, self.features, strict=True):
            h = module(h)
            if name in wanted:
                out[name] = h
                if len(out) == len(wanted):
                    break
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(self.normalize(x))
        return self.classifier(torch.flatten(self.avgpool(h), 1))


def vgg19(weights: str | None = None, pooling: str = "max") -> VGG19:
    """VGG19 in eval mode.

    Args:
        weights: None (random init), ``"vgg19"`` (torchvision's ImageNet file, downloaded and
            sha256-checked), or a path to a torchvision-format ``.pth`` / ``.safetensors``.
        pooling: ``"max"`` (as trained) or ``"avg"`` (Gatys et al. found it smoother).
    """
    model = VGG19(pooling=pooling)
    if weights is not None:
        model.load_state_dict(load_state_dict(weights), strict=True)
    return model.eval()


# the weights this module defines (read by core.weights.ENTRY_MODULES)
WEIGHTS = (VGG19_WEIGHTS,)
