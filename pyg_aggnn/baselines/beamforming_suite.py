"""The baselines of MISO beamforming, as training validates against them and every
beamforming evaluation shows them.
"""

from __future__ import annotations

from pyg_aggnn._validation import check_positive_int
from pyg_aggnn.baselines.base import Baseline
from pyg_aggnn.baselines.max_ratio import MaxRatioTransmission
from pyg_aggnn.baselines.wmmse_beamforming import WMMSEBeamforming

__all__ = ["beamforming_baselines", "CONVERGED_TOL"]

#: Change of every transmit power (in units of ``p0``) below which the centralized
#: WMMSE beamforming counts as converged.
CONVERGED_TOL = 1e-6


def beamforming_baselines(num_exchanges: int = 5, update_every: int = 1) -> dict[str, Baseline]:
    """The reference set on multi-antenna episodes:

    * ``wmmse``: centralized WMMSE beamforming on every pair, 100 iterations or
      converged (:data:`CONVERGED_TOL`), the reference of every "% of WMMSE";
    * ``wmmse_local``: WMMSE beamforming on the pairs of the slot's graph,
      ``num_exchanges`` iterations;
    * ``mrt``: maximum ratio transmission at full power (interference ignored).

    Args:
        num_exchanges: iterations of ``wmmse_local`` (default: ``5``).
        update_every: decision period of every baseline (default: ``1``).
    """
    every = check_positive_int("update_every", update_every)
    return {
        "wmmse": WMMSEBeamforming("centralized", tol=CONVERGED_TOL, update_every=every),
        "wmmse_local": WMMSEBeamforming(
            "local",
            num_iters=check_positive_int("num_exchanges", num_exchanges),
            update_every=every,
        ),
        "mrt": MaxRatioTransmission(update_every=every),
    }
