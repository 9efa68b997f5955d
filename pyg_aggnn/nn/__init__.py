"""Neural layers and allocation models."""

from pyg_aggnn.nn.policy import BernoulliPower, PowerPolicy

__all__ = ["PowerPolicy", "BernoulliPower"]
