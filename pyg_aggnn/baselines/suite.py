r"""The classical baselines every evaluation shows beside the learned policies."""

from __future__ import annotations

from collections.abc import Sequence

from lightning_modules.comparison import (
    BINARY_EXACT_LINKS,
    BINARY_MAX_LINKS,
    BaselineComparison,
)
from pyg_aggnn._validation import check_positive_int
from pyg_aggnn.baselines import WMMSE, Baseline, BinaryBound, Exhaustive, Strongest
from pyg_aggnn.baselines.exhaustive import MAX_LINKS

__all__ = ["BASELINES", "DEFAULT_BASELINES", "baseline_suite"]

#: Every baseline an evaluation can show, by name.
BASELINES = (
    "wmmse",
    "wmmse_local",
    "wmmse_central",
    "equal",
    "random",
    "strongest",
    "binary",
    "exhaustive",
)
#: What the papers' figures show and two references, as training's validation logs
#: them (the binary bound joins on networks of at most 50 links, the exhaustive optimum
#: on networks of at most 10).
DEFAULT_BASELINES = ("wmmse", "wmmse_local", "binary", "equal", "random", "exhaustive")


def baseline_suite(
    names: Sequence[str] = DEFAULT_BASELINES,
    num_exchanges: int = 5,
    update_every: int = 1,
    max_links: int | None = None,
    neighbours_only: bool = False,
    calibration: Sequence | None = None,
) -> dict[str, Baseline]:
    """Build the named baselines, configured as in the papers.

    ``wmmse`` (distributed, ``num_exchanges`` iterations on each slot's graph, held to
    the budget in every slot by the global price), ``wmmse_local`` (the same with a
    fixed price calibrated on ``calibration``, local exchanges, the budget met on
    average), ``binary`` (the centralized on/off bound), ``equal``, ``random`` and
    ``exhaustive`` are exactly the ones training validates against
    (:meth:`lightning_modules.comparison.BaselineComparison.default_baselines`);
    besides them ``wmmse_central`` (centralized WMMSE on the full channel, 100
    iterations, held to the budget) and ``strongest`` (the budget's fraction of
    strongest links at full power). ``exhaustive`` is only built when ``max_links`` is
    known and at most 10, or 16 when asked for without the other defaults; ``binary``
    in the defaults only when ``max_links`` is known and at most 50;
    ``wmmse_local`` in the defaults only with ``calibration``.

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
    """
    unknown = [name for name in names if name not in BASELINES]
    if unknown:
        raise ValueError(f"names must be taken from {list(BASELINES)}, got {unknown}")
    exchanges = check_positive_int("num_exchanges", num_exchanges)
    every = check_positive_int("update_every", update_every)
    defaults = tuple(names) == DEFAULT_BASELINES
    if "wmmse_local" in names and calibration is None and not defaults:
        raise ValueError("calibration (training episodes) is needed for wmmse_local, got None")
    papers = BaselineComparison.default_baselines(
        BINARY_MAX_LINKS + 1 if max_links is None else max_links,
        exchanges,
        every,
        neighbours_only,
        calibration if "wmmse_local" in names else None,
    )
    limit = MAX_LINKS if not defaults else 10
    suite: dict[str, Baseline] = {}
    for name in names:
        if name in papers:
            suite[name] = papers[name]
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
