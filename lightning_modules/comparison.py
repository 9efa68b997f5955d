"""``BaselineComparison``: the classical baselines' metrics beside the policy's."""

from __future__ import annotations

import torch
from torch import Tensor

from lightning_modules.metrics import allocation_metrics, graphs, rates_and_reward
from lightning_modules.seeding import Stream, keyed_generator
from pyg_aggnn._validation import check_positive_int
from pyg_aggnn.baselines import WMMSE, Baseline, EqualPower, Exhaustive, RandomFullPower

__all__ = ["BaselineComparison"]


class BaselineComparison:
    """Evaluate baselines on the batches a policy is evaluated on.

    Baselines do not learn, so every evaluation batch is computed once and its metrics
    are cached under the caller's key. The random baselines draw from a stream keyed by
    ``seed`` and the batch's first ``sample_id``, so the numbers are reproducible.

    Args:
        baselines: ``{name: Baseline}``, or ``None`` for :meth:`default_baselines`,
            built at the first batch for the size of its largest network.
        num_exchanges: WMMSE iterations of the default set (default: ``5``).
        update_every: decision period of the default set, e.g. ``m / lam`` slots for
            asynchronous networks (default: ``1``).
        neighbours_only: rate model of the exhaustive search (default: ``False``).
        seed: seed of the random draws (default: ``0``).
    """

    def __init__(
        self,
        baselines: dict[str, Baseline] | None = None,
        num_exchanges: int = 5,
        update_every: int = 1,
        neighbours_only: bool = False,
        seed: int = 0,
    ):
        self.baselines = None if baselines is None else dict(baselines)
        self.num_exchanges = check_positive_int("num_exchanges", num_exchanges)
        self.update_every = check_positive_int("update_every", update_every)
        self.neighbours_only = bool(neighbours_only)
        self.seed = seed
        self._cache: dict[tuple, dict[str, Tensor]] = {}

    @staticmethod
    def default_baselines(
        max_links: int, num_exchanges: int = 5, update_every: int = 1, neighbours_only: bool = False
    ) -> dict[str, Baseline]:
        """The papers' baselines: distributed WMMSE with ``num_exchanges`` iterations held
        to the total budget (``budget="scale"``), equal power, random full power, and the
        exhaustive optimum for networks of at most 10 links.
        """
        every = update_every
        baselines = {
            "wmmse": WMMSE(
                "distributed", num_iters=num_exchanges, budget="scale", update_every=every
            ),
            "equal": EqualPower(update_every=every),
            "random": RandomFullPower(update_every=every),
        }
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
            )
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
