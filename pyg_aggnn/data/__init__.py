"""Temporal wireless graphs and datasets of them on disk."""

from pyg_aggnn.data.augment import permute_links, random_link_permutation
from pyg_aggnn.data.config import (
    canonical_json,
    config_hash,
    scenario_from_config,
    scenario_to_config,
    short_hash,
)
from pyg_aggnn.data.dataset import WirelessDataset
from pyg_aggnn.data.episode import WirelessEpisode
from pyg_aggnn.data.generate import generate_dataset
from pyg_aggnn.data.generation_config import GenerationConfig, SplitConfig
from pyg_aggnn.data.online import OnlineEpisodes
from pyg_aggnn.data.sampler import ShardShuffleSampler
from pyg_aggnn.data.seeding import Stream, keyed_generator
from pyg_aggnn.data.stacked import StackedEpisodes, stack_episodes
from pyg_aggnn.data.storage import DatasetError

__all__ = [
    "WirelessEpisode",
    "WirelessDataset",
    "GenerationConfig",
    "SplitConfig",
    "ShardShuffleSampler",
    "OnlineEpisodes",
    "StackedEpisodes",
    "stack_episodes",
    "random_link_permutation",
    "permute_links",
    "Stream",
    "keyed_generator",
    "DatasetError",
    "generate_dataset",
    "scenario_to_config",
    "scenario_from_config",
    "canonical_json",
    "config_hash",
    "short_hash",
]
