r"""Where evaluation episodes come from: a simulated scenario or a dataset on disk.

Simulated episodes use the keyed streams of training
(:func:`pyg_aggnn.data.online.simulate`): episode ``k`` of ``(seed, stream)`` is the
same whoever asks for it, and ``network="fixed"`` draws the layout exactly as
:class:`~lightning_modules.WirelessDataModule` does from the same seed, so a policy
trained on a fixed network is evaluated on *that* network.
"""

from __future__ import annotations

import torch

from pyg_aggnn._validation import check_choice, check_positive_int
from pyg_aggnn.data.online import simulate
from pyg_aggnn.data.seeding import Stream, keyed_generator
from pyg_aggnn.wireless.scenario import Scenario

__all__ = ["simulate_episodes", "dataset_episodes"]


def simulate_episodes(
    scenario: Scenario,
    count: int,
    num_slots: int,
    seed: int = 0,
    network: str = "random",
    stream: int = Stream.TEST,
) -> list:
    """``count`` simulated episodes of ``scenario``.

    Args:
        scenario: the scenario to simulate.
        count: number of episodes.
        num_slots: slots ``T`` per episode.
        seed: seed of the streams (default: ``0``).
        network: ``"random"`` (a new layout per episode, the transference setting) or
            ``"fixed"`` (the layout of ``WirelessDataModule(seed=seed)``, new fading and
            activity per episode) (default: ``"random"``).
        stream: the keyed stream (default: ``Stream.TEST``, the held-out test split).

    Returns:
        A list of :class:`~pyg_aggnn.data.WirelessEpisode` with ``sample_id = [k]``.
    """
    check_positive_int("count", count)
    check_positive_int("num_slots", num_slots)
    check_positive_int("seed", seed, minimum=0)
    check_choice("network", network, ("random", "fixed"))
    layout = None
    if network == "fixed":
        layout = scenario.sample_layout(keyed_generator(seed, Stream.LAYOUT))
    return [simulate([scenario], num_slots, seed, stream, k, layout) for k in range(count)]


def dataset_episodes(path: str, split: str = "test", count: int | None = None):
    """The episodes of one split of a dataset written by ``pyg-aggnn generate``.

    Args:
        path: the dataset directory.
        split: the split (default: ``"test"``).
        count: at most this many episodes, from the start (default: all).
    """
    from pyg_aggnn.data import WirelessDataset

    data = WirelessDataset(path, split=split)
    size = len(data) if count is None else min(len(data), check_positive_int("count", count))
    episodes = []
    for k in range(size):
        episode = data[k]
        episode.sample_id = torch.tensor([k])  # keys the methods' random draws
        episodes.append(episode)
    return episodes
