"""photogen: generate and transform images with deep learning.

Every public API takes and returns images as torch tensors of shape ``(B, 3, H, W)``,
float32 sRGB in ``[0, 1]``. See ``photogen.core`` for reading, writing and colour spaces.
"""

__version__ = "0.1.0"
