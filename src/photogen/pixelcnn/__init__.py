"""Autoregressive pixel models (van den Oord et al. 2016): Gated PixelCNN with a softmax or a
PixelCNN++ logistic-mixture output, bits/dim, a fast cached sampler, completion."""

from photogen.pixelcnn.model import PixelCNN, PixelCNNConfig

__all__ = ["PixelCNN", "PixelCNNConfig"]
