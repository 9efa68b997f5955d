"""LightningModules, DataModules and callbacks of pyg_aggnn."""

from lightning_modules.callbacks import BatchNormRecalibration, StallDetector, StallWarning
from lightning_modules.comparison import BaselineComparison
from lightning_modules.datamodule import WirelessDataModule
from lightning_modules.duals import DualVariables
from lightning_modules.online import OnlineEpisodes
from lightning_modules.primal_dual import PrimalDualModule
from lightning_modules.problem import PowerProblem
from lightning_modules.progress import LineProgressBar

__all__ = [
    "PrimalDualModule",
    "WirelessDataModule",
    "PowerProblem",
    "DualVariables",
    "OnlineEpisodes",
    "LineProgressBar",
    "BaselineComparison",
    "StallDetector",
    "StallWarning",
    "BatchNormRecalibration",
]
