"""Keyed random streams, which live in :mod:`pyg_aggnn.data.seeding`."""

from pyg_aggnn.data.seeding import Stream, derive_seed, keyed_generator

__all__ = ["derive_seed", "keyed_generator", "Stream"]
