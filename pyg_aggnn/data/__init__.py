"""Temporal wireless graphs."""

from pyg_aggnn.data.episode import WirelessEpisode

__all__ = ["WirelessEpisode"]
