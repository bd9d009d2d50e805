"""Foundations the generators stand on: perceptron, MLP (numpy), a small CNN and a DCGAN (torch).

Built to be read and to make the pictures that teach each idea (``photogen learn ...``).
"""
