"""Neural layers and allocation models."""

from pyg_aggnn.nn import features, shift
from pyg_aggnn.nn.agg_gnn import AggGNN
from pyg_aggnn.nn.beamforming_policy import BeamformingPolicy
from pyg_aggnn.nn.delayed_diffusion import DelayedDiffusion
from pyg_aggnn.nn.generic import GenericGNNPolicy
from pyg_aggnn.nn.mlp_policy import MLPPolicy
from pyg_aggnn.nn.norm_statistics import recalibrate_batch_norm
from pyg_aggnn.nn.policy import BernoulliPower, PowerPolicy
from pyg_aggnn.nn.power_distributions import TruncatedGaussianPower
from pyg_aggnn.nn.selection_gnn import SelectionGNN
from pyg_aggnn.nn.snapshot import SlotGraph, SnapshotPolicy
from pyg_aggnn.nn.wcgcn import WCGCN
from pyg_aggnn.nn.wcgcn_beamforming import WCGCNBeamforming
from pyg_aggnn.nn.wcgcn_conv import WCGCNConv

__all__ = [
    "PowerPolicy",
    "BernoulliPower",
    "TruncatedGaussianPower",
    "DelayedDiffusion",
    "AggGNN",
    "SnapshotPolicy",
    "SlotGraph",
    "SelectionGNN",
    "WCGCNConv",
    "WCGCN",
    "BeamformingPolicy",
    "WCGCNBeamforming",
    "MLPPolicy",
    "GenericGNNPolicy",
    "recalibrate_batch_norm",
    "shift",
    "features",
]
