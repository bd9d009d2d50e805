"""Shared foundations: image I/O, colour, devices, weights, training helpers, galleries."""

from photogen.core.image import ImageError, list_images, read_image, save_image

__all__ = ["ImageError", "list_images", "read_image", "save_image"]
