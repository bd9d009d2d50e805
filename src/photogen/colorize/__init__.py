"""Automatic colorization (Zhang, Isola, Efros 2016): quantised ab bins, soft encoding,
class rebalancing and annealed-mean decoding. Networks and training are still to come."""
