"""The lecture's claims as experiments anyone can re-run (``photogen experiment NAME -o DIR``).

Each experiment is a function of the library's methods: it writes its figures into its own
folder, returns its numbers, and states the claim, the set-up and what was measured; the
runner saves ``results.json`` per experiment and one HTML page over all that were run.
"""

from photogen.experiments.base import EXPERIMENTS, Settings, run_experiments

__all__ = ["EXPERIMENTS", "Settings", "run_experiments"]
