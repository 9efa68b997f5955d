"""The power allocation problem, which lives in :mod:`pyg_aggnn.problem` (this name
stays importable for configs and checkpoints that name ``lightning_modules.problem``).
"""

from pyg_aggnn.problem import PowerProblem

__all__ = ["PowerProblem"]
