"""Physical limits that data and simulations are checked against, defined below every module that uses them
(the launch records, the MD engines, the frame checks), with the config keys that set them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .settings import JobSettings


@dataclass(frozen=True)
class SanityLimits:
    """MD stops when energy or forces are not finite, the temperature exceeds ``max_temperature_K``,
    or two atoms come closer than ``min_distance_A`` (the workflow's are ``md.max_temperature_K`` and
    ``md.min_distance_A`` of the config)."""

    max_temperature_K: float
    min_distance_A: float


@dataclass(frozen=True)
class FrameLimits(JobSettings):
    """What an AIMD frame of an aqueous hydroxide may hold; a frame outside is refused by the job that first
    reads it (the config's ``frame_checks``, with the measured values in its schema):

    - ``min_pair_distance_A``: no two atoms closer (Å, minimum image; an O–H bond is ~0.97 Å);
    - ``binding_energy_eV_per_atom``: [low, high] of (E − Σ E0)/N, the energy per atom below the isolated atoms'
      (eV/atom, with the study's E0s);
    - ``rms_force_eV_per_A``: [low, high] of the root-mean-square force component (eV/Å);
    - ``max_force_eV_per_A``: the largest force on one atom (eV/Å)."""

    min_pair_distance_A: float
    binding_energy_eV_per_atom: Sequence[float]
    rms_force_eV_per_A: Sequence[float]
    max_force_eV_per_A: float
