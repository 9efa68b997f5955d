"""Wireless simulation: scenarios, fading, activity, states and the physics."""

from pyg_aggnn.wireless import miso, physics, units
from pyg_aggnn.wireless.activation import (
    Activation,
    GivenSubsets,
    PeriodicClocks,
    RandomSubsets,
    Synchronous,
)
from pyg_aggnn.wireless.adhoc import AdHoc
from pyg_aggnn.wireless.cellular import Cellular
from pyg_aggnn.wireless.d2d import D2D
from pyg_aggnn.wireless.fading import ar1_rayleigh
from pyg_aggnn.wireless.gaussian_ic import GaussianIC
from pyg_aggnn.wireless.miso_d2d import MISOD2D
from pyg_aggnn.wireless.physics import (
    interference_power,
    min_rate_slack,
    power_budget_slack,
    proportional_fairness,
    rate,
    sinr,
    sum_rate,
)
from pyg_aggnn.wireless.scenario import Layout, Scenario, make_generator
from pyg_aggnn.wireless.states import ConstantState, GivenState, NodeState, PoissonArrivals

__all__ = [
    "physics",
    "miso",
    "units",
    "Scenario",
    "Layout",
    "make_generator",
    "AdHoc",
    "Cellular",
    "GaussianIC",
    "D2D",
    "MISOD2D",
    "ar1_rayleigh",
    "Activation",
    "Synchronous",
    "RandomSubsets",
    "GivenSubsets",
    "PeriodicClocks",
    "NodeState",
    "ConstantState",
    "PoissonArrivals",
    "GivenState",
    "interference_power",
    "sinr",
    "rate",
    "sum_rate",
    "proportional_fairness",
    "min_rate_slack",
    "power_budget_slack",
]
