"""The baseline suite, which lives in :mod:`pyg_aggnn.baselines.suite`."""

from pyg_aggnn.baselines.suite import BASELINES, DEFAULT_BASELINES, baseline_suite

__all__ = ["BASELINES", "DEFAULT_BASELINES", "baseline_suite"]
