r"""The baseline suite: the classical baselines that training validates against and
that every evaluation shows beside the learned policies, configured as in the papers.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyg_aggnn._validation import check_positive_int
from pyg_aggnn.baselines.base import Baseline
from pyg_aggnn.baselines.binary_bound import BinaryBound
from pyg_aggnn.baselines.calibration import calibrate_price
from pyg_aggnn.baselines.equal_power import EqualPower
from pyg_aggnn.baselines.exhaustive import MAX_LINKS, Exhaustive
from pyg_aggnn.baselines.random_full_power import RandomFullPower
from pyg_aggnn.baselines.strongest import Strongest
from pyg_aggnn.baselines.wmmse import WMMSE

__all__ = [
    "BASELINES",
    "DEFAULT_BASELINES",
    "BINARY_MAX_LINKS",
    "BINARY_EXACT_LINKS",
    "EXHAUSTIVE_MAX_LINKS",
    "CALIBRATION_EPISODES",
    "PRICED_BASELINES",
    "default_baselines",
    "baseline_suite",
    "wmmse_local_awake",
]

#: Every baseline an evaluation can show, by name.
BASELINES = (
    "wmmse",
    "wmmse_local",
    "wmmse_local_awake",
    "wmmse_central",
    "equal",
    "random",
    "strongest",
    "binary",
    "exhaustive",
)
#: What the papers' figures show and two references, as training's validation logs
#: them (:func:`default_baselines`).
DEFAULT_BASELINES = (
    "wmmse",
    "wmmse_local",
    "wmmse_local_awake",
    "binary",
    "equal",
    "random",
    "exhaustive",
)
#: The default set shows the binary bound on networks of at most this many links: the
#: cost of its greedy and local search grows about as :math:`m^3`.
BINARY_MAX_LINKS = 50
#: The default set shows the exhaustive optimum on networks of at most this many
#: links (:math:`2^m` patterns per slot). Named alone, the exhaustive search goes up to
#: its own limit :data:`~pyg_aggnn.baselines.exhaustive.MAX_LINKS`.
EXHAUSTIVE_MAX_LINKS = 10
#: The suite's binary bound solves its problem exactly by enumeration up to this many
#: links, the size up to which the exhaustive optimum is shown.
BINARY_EXACT_LINKS = EXHAUSTIVE_MAX_LINKS
#: The baselines with a fixed price calibrated on training episodes.
PRICED_BASELINES = ("wmmse_local", "wmmse_local_awake")
#: Training episodes the fixed price of ``wmmse_local`` is calibrated on.
CALIBRATION_EPISODES = 64


def default_baselines(
    max_links: int,
    num_exchanges: int = 5,
    update_every: int = 1,
    neighbours_only: bool = False,
    calibration: Sequence | None = None,
    warmup_slots: int = 0,
) -> dict[str, Baseline]:
    """The papers' baselines and two references:

    * ``wmmse``: distributed WMMSE with ``num_exchanges`` iterations held to the
      total budget in every slot by the **global price** (``budget="scale"``: each
      exchange also needs the network's total power, a centralized step);
    * ``wmmse_local``: the same with a **fixed price** (``budget="price"``), so every
      exchange is local, calibrated on the training episodes ``calibration`` so that
      the budget is met on average (left out if ``calibration`` is ``None``);
    * ``wmmse_local_awake``, in an asynchronous setting (a link asleep at some slot of
      the calibration episodes): the same fixed-price WMMSE under the wake constraint
      of a learned policy, deciding at every slot its link is awake and silent before
      its first wake (``update_every=1, when_active=True``), its price calibrated
      under that constraint. ``wmmse`` and ``wmmse_local`` keep the papers' schedule:
      every link, awake or not, decides every ``update_every`` slots;
    * ``binary``: the centralized on/off bound (:class:`~pyg_aggnn.baselines.BinaryBound`)
      for networks of at most :data:`BINARY_MAX_LINKS` links, exact up to
      :data:`BINARY_EXACT_LINKS`;
    * ``equal`` power, ``random`` full power, and the ``exhaustive`` optimum for
      networks of at most :data:`EXHAUSTIVE_MAX_LINKS` links.

    Args:
        max_links: the largest network that will be evaluated.
        num_exchanges: WMMSE iterations of the distributed version (default: ``5``).
        update_every: decision period of every baseline, e.g. ``m / lam`` in the
            asynchronous setting (default: ``1``).
        neighbours_only: the exhaustive search's and the binary bound's rate (default:
            ``False``).
        calibration: training episodes that ``wmmse_local``'s price is calibrated on
            (default: ``None``, no ``wmmse_local``).
        warmup_slots: leading slots the evaluation does not score, left out of the
            calibration's mean power too (default: ``0``; see
            :func:`~pyg_aggnn.baselines.calibrate_price`).
    """
    every = update_every
    wmmse = dict(mode="distributed", num_iters=num_exchanges, update_every=every)
    baselines: dict[str, Baseline] = {"wmmse": WMMSE(budget="scale", **wmmse)}
    if calibration is not None:
        local = WMMSE(budget="price", **wmmse)
        calibrate_price(local, calibration, warmup_slots=warmup_slots)
        baselines["wmmse_local"] = local
        if not all(bool(episode.active.all()) for episode in calibration):
            baselines["wmmse_local_awake"] = wmmse_local_awake(
                num_exchanges, calibration, warmup_slots
            )
    if max_links <= BINARY_MAX_LINKS:
        baselines["binary"] = BinaryBound(
            neighbours_only=neighbours_only,
            exact_links=BINARY_EXACT_LINKS,
            update_every=every,
        )
    baselines["equal"] = EqualPower(update_every=every)
    baselines["random"] = RandomFullPower(update_every=every)
    if max_links <= EXHAUSTIVE_MAX_LINKS:
        baselines["exhaustive"] = Exhaustive(neighbours_only=neighbours_only, update_every=every)
    return baselines


def wmmse_local_awake(num_exchanges: int, calibration: Sequence, warmup_slots: int = 0) -> WMMSE:
    """The fixed-price WMMSE under a learned policy's wake constraint: ``num_exchanges``
    local iterations at every slot its link is awake, silent before the first, the
    price calibrated on ``calibration`` under that constraint, over the slots from
    ``warmup_slots`` on.
    """
    awake = WMMSE(
        budget="price",
        mode="distributed",
        num_iters=num_exchanges,
        update_every=1,
        when_active=True,
    )
    calibrate_price(awake, calibration, warmup_slots=warmup_slots)
    return awake


def baseline_suite(
    names: Sequence[str] = DEFAULT_BASELINES,
    num_exchanges: int = 5,
    update_every: int = 1,
    max_links: int | None = None,
    neighbours_only: bool = False,
    calibration: Sequence | None = None,
    warmup_slots: int = 0,
) -> dict[str, Baseline]:
    """Build the named baselines, configured as in the papers.

    ``wmmse`` (distributed, ``num_exchanges`` iterations on each slot's graph, held to
    the budget in every slot by the global price), ``wmmse_local`` (the same with a
    fixed price calibrated on ``calibration``, local exchanges, the budget met on
    average), ``wmmse_local_awake`` (the same under the learned policy's wake
    constraint, in asynchronous settings, see :func:`default_baselines`), ``binary``
    (the centralized on/off bound), ``equal``, ``random`` and
    ``exhaustive`` are exactly the ones training validates against
    (:func:`default_baselines`); besides them ``wmmse_central`` (centralized WMMSE on
    the full channel, 100 iterations, held to the budget) and ``strongest`` (the
    budget's fraction of strongest links at full power). ``exhaustive`` is only built
    when ``max_links`` is known and at most :data:`EXHAUSTIVE_MAX_LINKS`, or
    :data:`~pyg_aggnn.baselines.exhaustive.MAX_LINKS` when asked for without the other
    defaults; ``binary`` in the defaults only when ``max_links`` is known and at most
    :data:`BINARY_MAX_LINKS`; ``wmmse_local`` in the defaults only with
    ``calibration``.

    Args:
        names: which baselines, from :data:`BASELINES`
            (default: :data:`DEFAULT_BASELINES`).
        num_exchanges: WMMSE iterations of the distributed version (default: ``5``).
        update_every: decision period of every baseline, e.g. ``m / lam`` in the
            asynchronous setting (default: ``1``).
        max_links: largest network that will be evaluated (default: ``None``, unknown).
        neighbours_only: the exhaustive search's and the binary bound's rate (default:
            ``False``).
        calibration: training episodes of the evaluated setting (the same scenario,
            never the evaluation episodes) that ``wmmse_local``'s price is calibrated
            on (default: ``None``; needed when ``wmmse_local`` is named without the
            other defaults).
        warmup_slots: leading slots the evaluation does not score, left out of the
            priced baselines' calibration (default: ``0``).
    """
    unknown = [name for name in names if name not in BASELINES]
    if unknown:
        raise ValueError(f"names must be taken from {list(BASELINES)}, got {unknown}")
    exchanges = check_positive_int("num_exchanges", num_exchanges)
    every = check_positive_int("update_every", update_every)
    defaults = tuple(names) == DEFAULT_BASELINES
    priced = [name for name in PRICED_BASELINES if name in names]
    if priced and calibration is None and not defaults:
        raise ValueError(
            f"calibration (training episodes) is needed for {', '.join(priced)}, got None"
        )
    papers = default_baselines(
        BINARY_MAX_LINKS + 1 if max_links is None else max_links,
        exchanges,
        every,
        neighbours_only,
        calibration if priced else None,
        warmup_slots,
    )
    limit = MAX_LINKS if not defaults else EXHAUSTIVE_MAX_LINKS
    suite: dict[str, Baseline] = {}
    for name in names:
        if name in papers:
            suite[name] = papers[name]
        elif name == "wmmse_local_awake" and not defaults:  # named in a synchronous setting
            suite[name] = wmmse_local_awake(exchanges, calibration, warmup_slots)
        elif name == "wmmse_central":
            suite[name] = WMMSE("centralized", budget="scale", update_every=every)
        elif name == "strongest":
            suite[name] = Strongest(update_every=every)
        elif name == "binary" and not defaults:
            suite[name] = BinaryBound(
                neighbours_only=neighbours_only, exact_links=BINARY_EXACT_LINKS, update_every=every
            )
        elif name == "exhaustive" and max_links is not None and max_links <= limit:
            suite[name] = Exhaustive(neighbours_only=neighbours_only, update_every=every)
    return suite
