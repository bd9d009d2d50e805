"""What every feature network shares: named layers and their validation."""

from __future__ import annotations

from torch import nn


class FeatureNet(nn.Module):
    """A network whose activations are addressed by name (``layer_names``, forward order)."""

    layer_names: list[str]

    def wanted_layers(self, layers: set[str] | list[str]) -> set[str]:
        """``layers`` as a set, or ValueError naming the unknown ones and what exists."""
        wanted = set(layers)
        unknown = wanted - set(self.layer_names)
        if unknown:
            raise ValueError(
                f"unknown {type(self).__name__} layers {sorted(unknown)}; "
                f"available: {', '.join(self.layer_names)}"
            )
        return wanted
