"""The experiments, one explicit list in the lecture's order (the CLI's names, ``all`` and the
page read it)."""

from photogen.experiments import colorize_loss, datasize, gatys, pix2pix_loss, playground, siblings
from photogen.experiments.base import Experiment

EXPERIMENTS: dict[str, Experiment] = {
    e.name: e
    for e in (
        datasize.EXPERIMENT,
        siblings.EXPERIMENT,
        colorize_loss.EXPERIMENT,
        pix2pix_loss.EXPERIMENT,
        gatys.TEXTURE_LAYERS,
        gatys.STYLE_TRADEOFF,
        playground.EXPERIMENT,
    )
}
