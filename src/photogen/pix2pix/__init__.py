"""Image-to-image translation with conditional GANs, pix2pix (Isola, Zhu, Zhou, Efros 2017):
U-Net / ResNet generators and PatchGAN discriminators with the reference implementation's
parameter names, L1 + cGAN training, pair builders, metrics and ONNX export."""

from photogen.pix2pix.models import load_generator

__all__ = ["load_generator"]
