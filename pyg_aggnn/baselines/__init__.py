"""Classical power allocation baselines, callable like the learned policies."""

from pyg_aggnn.baselines.base import Baseline
from pyg_aggnn.baselines.beamforming_suite import beamforming_baselines
from pyg_aggnn.baselines.binary_bound import BinaryBound, binary_bound
from pyg_aggnn.baselines.calibration import calibrate_price
from pyg_aggnn.baselines.equal_power import EqualPower, equal_power
from pyg_aggnn.baselines.exhaustive import Exhaustive, exhaustive
from pyg_aggnn.baselines.max_ratio import MaxRatioTransmission, max_ratio_transmission
from pyg_aggnn.baselines.random_full_power import RandomFullPower, random_full_power
from pyg_aggnn.baselines.strongest import Strongest, strongest
from pyg_aggnn.baselines.suite import BASELINES, DEFAULT_BASELINES, baseline_suite
from pyg_aggnn.baselines.wmmse import WMMSE, wmmse
from pyg_aggnn.baselines.wmmse_beamforming import WMMSEBeamforming, wmmse_beamforming

__all__ = [
    "Baseline",
    "WMMSE",
    "wmmse",
    "WMMSEBeamforming",
    "wmmse_beamforming",
    "MaxRatioTransmission",
    "max_ratio_transmission",
    "beamforming_baselines",
    "calibrate_price",
    "EqualPower",
    "equal_power",
    "RandomFullPower",
    "random_full_power",
    "Strongest",
    "strongest",
    "Exhaustive",
    "exhaustive",
    "BinaryBound",
    "binary_bound",
    "BASELINES",
    "DEFAULT_BASELINES",
    "baseline_suite",
]
