"""The benchmark suite behind ``pyg-aggnn bench``."""

from pyg_aggnn.bench.timing import machine_info, measure, peak_rss_mb

__all__ = ["measure", "machine_info", "peak_rss_mb"]
