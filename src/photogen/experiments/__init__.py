"""The lecture's claims as experiments anyone can re-run (``photogen experiment NAME -o DIR``).

Each experiment is a function of the library's methods: it writes its figures into its own
folder, returns its numbers, and states the claim, the set-up and what was measured; its
verdict is read from the numbers it recorded. The runner saves ``results.json`` per
experiment and one HTML page over all that were run. The list is ``catalogue.EXPERIMENTS``.
"""

from photogen.experiments.base import Settings
from photogen.experiments.catalogue import EXPERIMENTS
from photogen.experiments.runner import run_experiments

__all__ = ["EXPERIMENTS", "Settings", "run_experiments"]
