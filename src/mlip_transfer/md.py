"""Production NVT molecular dynamics with ASE and a MACE calculator.

Trajectories are ASE ``.traj`` files: appendable, indexable without reading the whole file, and
holding positions (Å, unwrapped: ASE's integrators never wrap), velocities, cell, energy (eV) and
forces (eV/Å).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
from ase import Atoms, units
from ase.io import Trajectory
from ase.md.bussi import Bussi
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import Stationary, thermalize_momenta

THERMOSTATS = ("bussi", "langevin")


def nvt_dynamics(atoms: Atoms, *, temperature_K: float, timestep_fs: float, thermostat: Mapping, seed: int):
    """An ASE NVT integrator: Bussi (CSVR, ``time_constant_fs``) or Langevin (``friction_per_fs``)."""
    rng = np.random.default_rng(seed)
    kind = thermostat["type"]
    if kind == "bussi":
        return Bussi(atoms, timestep_fs * units.fs, temperature_K, thermostat["time_constant_fs"] * units.fs, rng=rng)
    if kind == "langevin":
        return Langevin(
            atoms,
            timestep_fs * units.fs,
            temperature_K=temperature_K,
            friction=thermostat["friction_per_fs"] / units.fs,
            fixcm=False,  # ASE: fixcm=True does not sample NVT exactly; Stationary() removed the drift
            rng=rng,
        )
    raise ValueError(f"md.thermostat.type: unknown thermostat {kind!r}; expected one of {THERMOSTATS}")


def run_nvt(
    atoms: Atoms,
    calculator,
    trajectory_path: str | os.PathLike,
    *,
    temperature_K: float,
    timestep_fs: float,
    steps: int,
    write_interval: int,
    thermostat: Mapping,
    seed: int,
) -> int:
    """Thermalise velocities, run ``steps`` NVT steps and write every ``write_interval``-th frame.

    Returns the number of frames written (the starting frame included).
    """
    atoms = atoms.copy()
    atoms.calc = calculator
    thermalize_momenta(atoms, temperature_K, rng=np.random.default_rng(seed))
    Stationary(atoms)
    dynamics = nvt_dynamics(
        atoms, temperature_K=temperature_K, timestep_fs=timestep_fs, thermostat=thermostat, seed=seed
    )
    with Trajectory(trajectory_path, "w", atoms) as trajectory:
        dynamics.attach(trajectory.write, interval=write_interval)
        dynamics.run(steps)
    return steps // write_interval + 1
