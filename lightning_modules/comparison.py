"""``BaselineComparison``: the classical baselines' metrics beside the policy's."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from lightning_modules.metrics import allocation_metrics, graphs, rates_and_reward
from pyg_aggnn._validation import check_positive_int
from pyg_aggnn.baselines import (
    WMMSE,
    Baseline,
    BinaryBound,
    EqualPower,
    Exhaustive,
    RandomFullPower,
    calibrate_price,
)
from pyg_aggnn.data.seeding import Stream, keyed_generator

__all__ = ["BaselineComparison", "BINARY_MAX_LINKS", "BINARY_EXACT_LINKS", "CALIBRATION_EPISODES"]

#: The default set logs the binary bound on networks of at most this many links: the
#: cost of its greedy and local search grows about as :math:`m^3`.
BINARY_MAX_LINKS = 50
#: ... and solves it exactly by enumeration up to this many links, as the exhaustive
#: search is logged (:math:`2^m` patterns per slot).
BINARY_EXACT_LINKS = 10
#: Training episodes the fixed price of ``wmmse_local`` is calibrated on.
CALIBRATION_EPISODES = 64


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
        baselines: ``{name: Baseline}``, or ``None`` for :meth:`default_baselines`,
            built at the first batch for the size of its largest network.
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
    ):
        self.baselines = None if baselines is None else dict(baselines)
        self.num_exchanges = check_positive_int("num_exchanges", num_exchanges)
        self.update_every = check_positive_int("update_every", update_every)
        self.neighbours_only = bool(neighbours_only)
        self.seed = seed
        self.training_episodes = training_episodes
        self.calibration_size = check_positive_int("calibration_size", calibration_size)
        self._cache: dict[tuple, dict[str, Tensor]] = {}

    @staticmethod
    def default_baselines(
        max_links: int,
        num_exchanges: int = 5,
        update_every: int = 1,
        neighbours_only: bool = False,
        calibration: Sequence | None = None,
    ) -> dict[str, Baseline]:
        """The papers' baselines and two references:

        * ``wmmse``: distributed WMMSE with ``num_exchanges`` iterations held to the
          total budget in every slot by the **global price** (``budget="scale"``: each
          exchange also needs the network's total power, a centralized step);
        * ``wmmse_local``: the same with a **fixed price** (``budget="price"``), so every
          exchange is local, calibrated on the training episodes ``calibration`` so that
          the budget is met on average (left out if ``calibration`` is ``None``);
        * ``binary``: the centralized on/off bound (:class:`~pyg_aggnn.baselines.BinaryBound`)
          for networks of at most :data:`BINARY_MAX_LINKS` links, exact up to
          :data:`BINARY_EXACT_LINKS`;
        * ``equal`` power, ``random`` full power, and the ``exhaustive`` optimum for
          networks of at most 10 links.
        """
        every = update_every
        wmmse = dict(mode="distributed", num_iters=num_exchanges, update_every=every)
        baselines: dict[str, Baseline] = {"wmmse": WMMSE(budget="scale", **wmmse)}
        if calibration is not None:
            local = WMMSE(budget="price", **wmmse)
            calibrate_price(local, calibration)
            baselines["wmmse_local"] = local
        if max_links <= BINARY_MAX_LINKS:
            baselines["binary"] = BinaryBound(
                neighbours_only=neighbours_only,
                exact_links=BINARY_EXACT_LINKS,
                update_every=every,
            )
        baselines["equal"] = EqualPower(update_every=every)
        baselines["random"] = RandomFullPower(update_every=every)
        if max_links <= 10:
            baselines["exhaustive"] = Exhaustive(
                neighbours_only=neighbours_only, update_every=every
            )
        return baselines

    @torch.no_grad()
    def metrics(self, problem, batch, scored: Tensor, key: tuple) -> dict[str, Tensor]:
        """``{metric_name: value}`` of every baseline on ``batch`` (see
        :func:`~lightning_modules.metrics.allocation_metrics`).
        """
        if key in self._cache:
            return self._cache[key]
        if self.baselines is None:
            _, ptr, _ = graphs(batch)
            self.baselines = self.default_baselines(
                int((ptr[1:] - ptr[:-1]).max()),
                self.num_exchanges,
                self.update_every,
                self.neighbours_only,
                self.calibration(),
            )
        else:
            self._calibrate_prices()
        ids = getattr(batch, "sample_id", None)
        first = 0 if ids is None else int(ids.reshape(-1)[0])
        results = {}
        for name, baseline in self.baselines.items():
            generator = keyed_generator(self.seed, Stream.BASELINES, first)
            power = baseline(batch, generator=generator)[..., None]  # [N, T, 1]
            rates, reward = rates_and_reward(problem, batch, power)
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
            calibrate_price(baseline, episodes)
