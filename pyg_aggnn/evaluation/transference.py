r"""Transference: the settings a trained policy is evaluated in besides its training one.

* ``same-size``: new random networks of the training size (the papers' Fig. 8/9);
* ``scale``: larger (or smaller) networks at the training *density* (Fig. 10/11):
  :class:`~pyg_aggnn.wireless.AdHoc` ``(m', reference_links=m)`` places the
  transmitters in :math:`[-\sqrt{m m'}, \sqrt{m m'}]^2` with the receiver offsets of the
  ``m``-link network; :class:`~pyg_aggnn.wireless.D2D` and
  :class:`~pyg_aggnn.wireless.Cellular` grow their field by :math:`\sqrt{m'/m}`;
  :class:`~pyg_aggnn.wireless.GaussianIC` has no geometry and just gets ``m'`` links.
  The total budget keeps its value per link;
* ``delta``: another fading innovation factor :math:`\delta` (coherence time);
* ``async``: the papers' random active subsets, ``Poisson(lam)`` nodes per slot
  (``lam = 0`` reads as synchronous);
* ``hops``: another number of exchanges ``K`` of the Agg-GNN (the scenario is kept).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence

from torch import nn

from pyg_aggnn._validation import check_choice, check_in_range, check_positive_int
from pyg_aggnn.data.config import object_to_config, scenario_from_config, scenario_to_config
from pyg_aggnn.wireless import D2D, AdHoc, Cellular, GaussianIC, RandomSubsets, Synchronous
from pyg_aggnn.wireless.scenario import Scenario

__all__ = [
    "MODES",
    "at_size",
    "with_delta",
    "with_activity",
    "with_hops",
    "transfer_settings",
]

MODES = ("same-size", "scale", "delta", "async", "hops")


def _rebuild(scenario: Scenario, **changes) -> Scenario:
    config = scenario_to_config(scenario)
    init_args = dict(config["init_args"])
    init_args.update(changes)
    return scenario_from_config({"class_path": config["class_path"], "init_args": init_args})


def at_size(scenario: Scenario, num_links: int) -> Scenario:
    """The scenario with ``num_links`` links at the density of ``scenario``.

    Raises:
        ValueError: for a scenario class without a known density rule, or a
            :class:`~pyg_aggnn.wireless.Cellular` size that is not a whole number of
            cells.
    """
    m_new = check_positive_int("num_links", num_links)
    m_old = scenario.num_links
    budget = scenario.p_max_total * m_new / m_old
    if isinstance(scenario, AdHoc):
        return _rebuild(
            scenario,
            num_links=m_new,
            reference_links=scenario.reference_links,
            p_max_total=budget,
        )
    if isinstance(scenario, D2D):
        side = scenario.field_side_m * math.sqrt(m_new / m_old)
        return _rebuild(scenario, num_links=m_new, field_side_m=side, p_max_total=budget)
    if isinstance(scenario, GaussianIC):
        return _rebuild(scenario, num_links=m_new, p_max_total=budget)
    if isinstance(scenario, Cellular):
        if m_new % scenario.users_per_cell:
            raise ValueError(
                f"num_links must be a multiple of users_per_cell={scenario.users_per_cell} "
                f"for a cellular network, got {num_links}"
            )
        cells = m_new // scenario.users_per_cell
        width = scenario.half_width * math.sqrt(cells / scenario.num_cells)
        return _rebuild(
            scenario,
            num_cells=cells,
            half_width=width,
            cell_radius=scenario.cell_radius,
            p_max_total=budget,
        )
    raise ValueError(
        f"scenario must be AdHoc, D2D, GaussianIC or Cellular to change its size, "
        f"got {type(scenario).__name__}"
    )


def with_delta(scenario: Scenario, delta: float) -> Scenario:
    """The scenario with fading innovation factor ``delta``."""
    return _rebuild(scenario, delta=check_in_range("delta", delta, 0.0, 1.0))


def with_activity(scenario: Scenario, lam: float, num_subsets: int = 5) -> Scenario:
    """The scenario with ``RandomSubsets(lam, num_subsets)`` activity (``lam = 0``:
    synchronous).
    """
    activation = Synchronous() if lam == 0 else RandomSubsets(lam=lam, num_subsets=num_subsets)
    return _rebuild(scenario, activation=object_to_config(activation))


def with_hops(policy: nn.Module, K: int) -> nn.Module:
    """A copy of an Agg-GNN policy that aggregates ``K`` hops instead of its own.

    The CNN's causal filters slide along the hop axis, so the same weights apply to a
    sequence of any length when the readout looks at one position (``"last"``,
    ``"filter"``) or the average (``"mean"``); a ``"linear"`` readout is tied to its
    training ``K``.

    Raises:
        ValueError: if ``policy`` has no aggregation length or a ``"linear"`` readout.
    """
    K = check_positive_int("K", K)
    diffusion = getattr(policy, "diffusion", None)
    if diffusion is None or not hasattr(policy, "K"):
        raise ValueError(
            f"policy must be an aggregation policy with K hops, got {type(policy).__name__}"
        )
    if getattr(policy, "readout", "last") == "linear" and K != policy.K:
        raise ValueError(
            f"K can only change for readout 'last', 'mean' or 'filter'; this policy's readout is "
            f"'linear' with K={policy.K}, got K={K}"
        )
    changed = copy.deepcopy(policy)
    changed.K = K
    changed.diffusion.K = K
    return changed


def transfer_settings(
    mode: str, scenario: Scenario, values: Sequence[float] | None = None
) -> list[tuple[str, Scenario, int | None]]:
    """The evaluation settings of a transference mode.

    Args:
        mode: one of :data:`MODES`.
        scenario: the training scenario.
        values: sizes (``scale``), deltas (``delta``), mean active nodes (``async``,
            ``0`` = synchronous) or hop counts (``hops``); ignored for ``same-size``.

    Returns:
        ``[(label, scenario, K or None)]``: ``K`` is the hop count the policies use in
        that setting (``None``: their own).
    """
    check_choice("mode", mode, MODES)
    if mode == "same-size":
        return [(f"m={scenario.num_links}", scenario, None)]
    if not values:
        raise ValueError(f"values must list at least one value for mode {mode!r}, got {values!r}")
    if mode == "scale":
        return [(f"m={int(v)}", at_size(scenario, int(v)), None) for v in values]
    if mode == "delta":
        return [(f"delta={float(v):g}", with_delta(scenario, float(v)), None) for v in values]
    if mode == "async":
        return [
            (
                "sync" if float(v) == 0 else f"lam={float(v):g}",
                with_activity(scenario, float(v)),
                None,
            )
            for v in values
        ]
    return [(f"K={int(v)}", scenario, check_positive_int("K", int(v))) for v in values]
