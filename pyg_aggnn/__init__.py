"""pyg_aggnn: decentralized wireless resource allocation with graph neural networks."""

from pyg_aggnn.data import WirelessEpisode
from pyg_aggnn.wireless import D2D, AdHoc, Cellular, GaussianIC

__version__ = "0.1.0"

__all__ = ["WirelessEpisode", "AdHoc", "Cellular", "GaussianIC", "D2D", "__version__"]
