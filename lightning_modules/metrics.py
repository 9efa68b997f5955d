"""What training logs: the allocation metrics of :mod:`pyg_aggnn.evaluation.metrics` and
the dual statistics of :func:`~lightning_modules.duals.dual_metrics` (names kept here
for older imports).
"""

from lightning_modules.duals import dual_metrics
from pyg_aggnn.data.batching import graph_index as graphs
from pyg_aggnn.evaluation.metrics import allocation_metrics, rates_and_reward, scored_slots

__all__ = ["graphs", "scored_slots", "rates_and_reward", "allocation_metrics", "dual_metrics"]
