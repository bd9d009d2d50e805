"""DeepDream (Mordvintsev, Olah, Tyka 2015): gradient ascent on a layer's activations."""

from photogen.dream.dream import DreamConfig, DreamResult, dream

__all__ = ["DreamConfig", "DreamResult", "dream"]
