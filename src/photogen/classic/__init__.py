"""Classical texture synthesis, no network weights: Efros-Leung non-parametric sampling (1999),
image quilting (Efros-Freeman 2001) and Heeger-Bergen pyramid histogram matching (1995)."""
