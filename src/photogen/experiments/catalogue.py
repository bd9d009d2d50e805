"""Importing this module registers every experiment (in the order of the lecture)."""

from photogen.experiments import (  # noqa: F401
    colorize_loss,
    datasize,
    gatys,
    pix2pix_loss,
    playground,
    siblings,
)
