"""Unit conversions that cross the package's boundaries: config and CP2K times are in fs, analysis times in ps;
energies are eV, errors meV."""

from __future__ import annotations

FS_PER_PS = 1000.0
MEV_PER_EV = 1000.0


def fs_to_ps(time_fs: float) -> float:
    return time_fs / FS_PER_PS


def frame_interval_ps(timestep_fs: float, every: int) -> float:
    """Time between written frames (ps) of an MD that writes every ``every``-th step of ``timestep_fs``."""
    return fs_to_ps(timestep_fs * every)
