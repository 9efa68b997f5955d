"""``BaselineComparison``: the classical baselines' metrics beside the policy's."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from pyg_aggnn._validation import check_positive_int
from pyg_aggnn.baselines import WMMSE, Baseline, beamforming_baselines, calibrate_price
from pyg_aggnn.baselines.suite import (
    BINARY_EXACT_LINKS,
    BINARY_MAX_LINKS,
    CALIBRATION_EPISODES,
    default_baselines,
)
from pyg_aggnn.data.batching import graph_index
from pyg_aggnn.evaluation.allocators import BaselineAllocator
from pyg_aggnn.evaluation.metrics import allocation_metrics, rates_and_reward
from pyg_aggnn.wireless.miso import num_antennas, transmit_power

__all__ = ["BaselineComparison", "BINARY_MAX_LINKS", "BINARY_EXACT_LINKS", "CALIBRATION_EPISODES"]


class BaselineComparison:
    """Evaluate baselines on the batches a policy is evaluated on.

    Baselines do not learn, so every evaluation batch is computed once and its metrics
    are cached under the caller's key. The random baselines draw from a stream keyed by
    ``seed`` and the batch's first ``sample_id``, so the numbers are reproducible.

    The one baseline with a setting fitted offline, the fixed price of a
    ``WMMSE(budget="price")`` left at ``price=None`` (``wmmse_local`` of the default
    set), is calibrated once (:func:`~pyg_aggnn.baselines.calibrate_price`) on the first
    ``calibration_size`` episodes of the *training* stream, from ``training_episodes``
    (:class:`~lightning_modules.PrimalDualModule` hands over
    :meth:`~lightning_modules.WirelessDataModule.training_episodes`), never on the
    held-out episodes it is evaluated on; without them the default set leaves
    ``wmmse_local`` out.

    Args:
        baselines: ``{name: Baseline}``, or ``None`` for
            :func:`~pyg_aggnn.baselines.suite.default_baselines`,
            built at the first batch for the size of its largest network
            (:func:`~pyg_aggnn.baselines.beamforming_baselines` on multi-antenna
            episodes).
        num_exchanges: WMMSE iterations of the default set (default: ``5``).
        update_every: decision period of the default set, e.g. ``m / lam`` slots for
            asynchronous networks (default: ``1``).
        neighbours_only: rate model of the exhaustive search and the binary bound
            (default: ``False``).
        seed: seed of the random draws (default: ``0``).
        training_episodes: ``count -> episodes``, the first ``count`` training episodes
            (default: ``None``, none known).
        calibration_size: how many of them calibrate a price (default:
            :data:`CALIBRATION_EPISODES`).
        warmup_slots: leading slots the evaluation does not score, left out of the
            calibration's mean power as well (default: ``0``; the module passes its own).
    """

    def __init__(
        self,
        baselines: dict[str, Baseline] | None = None,
        num_exchanges: int = 5,
        update_every: int = 1,
        neighbours_only: bool = False,
        seed: int = 0,
        training_episodes: Callable[[int], Sequence] | None = None,
        calibration_size: int = CALIBRATION_EPISODES,
        warmup_slots: int = 0,
    ):
        self.baselines = None if baselines is None else dict(baselines)
        self.num_exchanges = check_positive_int("num_exchanges", num_exchanges)
        self.update_every = check_positive_int("update_every", update_every)
        self.neighbours_only = bool(neighbours_only)
        self.seed = seed
        self.training_episodes = training_episodes
        self.calibration_size = check_positive_int("calibration_size", calibration_size)
        self.warmup_slots = check_positive_int("warmup_slots", warmup_slots, minimum=0)
        self._cache: dict[tuple, dict[str, Tensor]] = {}

    #: The papers' baselines and two references
    #: (:func:`pyg_aggnn.baselines.suite.default_baselines`).
    default_baselines = staticmethod(default_baselines)

    @torch.no_grad()
    def metrics(self, problem, batch, scored: Tensor, key: tuple) -> dict[str, Tensor]:
        """``{metric_name: value}`` of every baseline on ``batch`` (see
        :func:`~pyg_aggnn.evaluation.metrics.allocation_metrics`).
        """
        if key in self._cache:
            return self._cache[key]
        if self.baselines is None and num_antennas(batch) > 1:
            self.baselines = beamforming_baselines(self.num_exchanges, self.update_every)
        elif self.baselines is None:
            _, ptr, _ = graph_index(batch)
            self.baselines = self.default_baselines(
                int((ptr[1:] - ptr[:-1]).max()),
                self.num_exchanges,
                self.update_every,
                self.neighbours_only,
                self.calibration(),
                self.warmup_slots,
            )
        else:
            self._calibrate_prices()
        results = {}
        for name, baseline in self.baselines.items():
            on_air = BaselineAllocator(baseline, self.seed)(batch)  # [N, T, 1(, N_t)]
            power = transmit_power(on_air)  # beamformers' ||v||^2
            rates, reward = rates_and_reward(problem, batch, on_air)
            metrics = allocation_metrics(problem, batch, power, rates, reward, scored)
            results.update({f"{k}_{name}": v for k, v in metrics.items() if k != "reward"})
        self._cache[key] = results
        return results

    def calibration(self) -> list | None:
        """The training episodes a price is calibrated on (``None`` if unknown)."""
        if self.training_episodes is None:
            return None
        return list(self.training_episodes(self.calibration_size))

    def _calibrate_prices(self) -> None:
        """Calibrate every given ``WMMSE(budget="price")`` still without a price."""
        pending = [
            b
            for b in self.baselines.values()
            if isinstance(b, WMMSE) and b.budget == "price" and b.price is None
        ]
        episodes = self.calibration() if pending else None
        for baseline in pending if episodes is not None else ():
            calibrate_price(baseline, episodes, warmup_slots=self.warmup_slots)
