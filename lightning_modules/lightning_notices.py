"""Lightning's own notices that say nothing about this package's code, silenced in one
place for the training commands and the test run.

Each entry is Lightning speaking about itself, or a generic caution that this package's
code is built to meet; warnings raised by the package (such as the
:class:`~lightning_modules.StallWarning`) are never filtered.
"""

from __future__ import annotations

import logging
import warnings

__all__ = ["LIGHTNING_WARNINGS", "silence_lightning_notices"]

#: ``(message regex, category, why)`` of the Lightning warnings that are silenced.
LIGHTNING_WARNINGS: tuple[tuple[str, type[Warning], str], ...] = (
    (
        r"`isinstance\(treespec, LeafSpec\)` is deprecated",
        FutureWarning,
        "torch deprecates LeafSpec, which Lightning's own pytree helper still builds",
    ),
    (
        r"Your `IterableDataset` has `__len__` defined",
        UserWarning,
        "a caution for streams that repeat samples over workers; OnlineEpisodes splits "
        "its batches over data-loader workers itself, so its length is exact",
    ),
    (
        r"LightningCLI's args parameter is intended",
        UserWarning,
        "pyg-aggnn passes its arguments on as args and keeps sys.argv whole, so that DDP "
        "launchers start the same command on every rank",
    ),
)


class _NoTips(logging.Filter):
    """Drops Lightning's advertising tips (a cloud logger) from its info lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("💡 Tip:")


_TIPS = _NoTips()


def silence_lightning_notices() -> None:
    """Install the filters of :data:`LIGHTNING_WARNINGS` and drop Lightning's tips."""
    for message, category, _ in LIGHTNING_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category)
    logger = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    if _TIPS not in logger.filters:
        logger.addFilter(_TIPS)
