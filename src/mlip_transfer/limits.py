"""Physical limits that data and simulations are checked against, defined below every module that uses them
(the launch records, the MD engines, the frame checks), with the config keys that set them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SanityLimits:
    """MD stops when energy or forces are not finite, the temperature exceeds ``max_temperature_K``,
    or two atoms come closer than ``min_distance_A`` (the workflow's are ``md.max_temperature_K`` and
    ``md.min_distance_A`` of the config)."""

    max_temperature_K: float
    min_distance_A: float
