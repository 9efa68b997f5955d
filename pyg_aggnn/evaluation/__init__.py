"""Evaluation of trained policies and baselines: metrics, transference, reports."""

from pyg_aggnn.baselines.suite import baseline_suite
from pyg_aggnn.evaluation.allocators import BaselineAllocator, PolicyAllocator
from pyg_aggnn.evaluation.checkpoints import (
    CheckpointError,
    load_policy,
    policy_from_config,
    read_checkpoint,
    save_module,
)
from pyg_aggnn.evaluation.episodes import dataset_episodes, simulate_episodes
from pyg_aggnn.evaluation.evaluator import MethodResult, evaluate
from pyg_aggnn.evaluation.metrics import NetworkMetrics, network_metrics
from pyg_aggnn.evaluation.report import format_table, summary_rows, write_results
from pyg_aggnn.evaluation.statistics import mean_interval, student_t_quantile, summarize
from pyg_aggnn.evaluation.transference import (
    at_size,
    transfer_settings,
    with_activity,
    with_delta,
    with_hops,
)

__all__ = [
    "network_metrics",
    "NetworkMetrics",
    "mean_interval",
    "student_t_quantile",
    "summarize",
    "PolicyAllocator",
    "BaselineAllocator",
    "baseline_suite",
    "evaluate",
    "MethodResult",
    "simulate_episodes",
    "dataset_episodes",
    "CheckpointError",
    "read_checkpoint",
    "load_policy",
    "save_module",
    "policy_from_config",
    "at_size",
    "with_delta",
    "with_activity",
    "with_hops",
    "transfer_settings",
    "format_table",
    "summary_rows",
    "write_results",
]
