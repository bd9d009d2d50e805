"""Neural texture synthesis (Gatys, Ecker, Bethge 2015) and style transfer (2016)."""

from photogen.gatys.losses import gram_matrix
from photogen.gatys.style import StyleConfig, stylize
from photogen.gatys.texture import TextureConfig, synthesize_texture

__all__ = ["StyleConfig", "TextureConfig", "gram_matrix", "stylize", "synthesize_texture"]
