"""Automatic colorization (Zhang, Isola, Efros 2016): quantised ab bins, soft encoding, class
rebalancing, annealed-mean decoding; the eccv16/siggraph17 networks, our lite network, training,
evaluation and batch inference."""
