"""Unit conversions: the only place where decibels meet linear values."""

from __future__ import annotations

import math

__all__ = ["db_to_linear", "linear_to_db", "dbm_to_watt", "watt_to_dbm", "SPEED_OF_LIGHT_M_S"]

SPEED_OF_LIGHT_M_S = 2.998e8


def db_to_linear(value_db: float) -> float:
    """Power ratio in dB to a linear power ratio."""
    return 10.0 ** (value_db / 10.0)


def linear_to_db(value: float) -> float:
    """Linear power ratio (``> 0``) to dB."""
    return 10.0 * math.log10(value)


def dbm_to_watt(value_dbm: float) -> float:
    """Power in dBm to watt."""
    return 10.0 ** ((value_dbm - 30.0) / 10.0)


def watt_to_dbm(value_w: float) -> float:
    """Power in watt (``> 0``) to dBm."""
    return 10.0 * math.log10(value_w) + 30.0
