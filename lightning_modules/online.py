"""The online episode stream, which lives in :mod:`pyg_aggnn.data.online`."""

from pyg_aggnn.data.online import OnlineEpisodes, simulate

__all__ = ["OnlineEpisodes", "simulate"]
