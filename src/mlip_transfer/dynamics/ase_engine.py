"""Production NVT molecular dynamics with ASE and a MACE calculator (the reference engine), resumable.

Trajectories are written by :mod:`.trajectory` (H5MD; positions unwrapped: ASE's integrators never wrap),
each frame with the thermostat's random-number state, so that an interrupted run continues exactly where
its last frame left it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from ase import Atoms, units
from ase.md.bussi import Bussi
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import Stationary, thermalize_momenta

from ..files import partial_path
from ..geometry import closest_pair
from ..limits import SanityLimits
from ..units import fs_to_ps
from . import trajectory
from .trajectory import H5MDWriter

if TYPE_CHECKING:
    from ..launch import MDLaunch
    from .catalogue import MDSettings

THERMOSTATS = ("bussi", "langevin")


class MDError(RuntimeError):
    """MD that left physical ground: the trajectory keeps every frame before the bad one."""


INTEGRATION = ("timestep_fs", "steps", "write_interval", "thermostat", "seed")  # of an MD job's settings


@dataclass(frozen=True)
class RunSettings:
    """How an NVT run integrates and writes, the same for every box of a batch: ``timestep_fs``, ``steps``,
    every ``write_interval``-th frame written, the ``thermostat`` (``type`` bussi with ``time_constant_fs``
    or langevin with ``friction_per_fs``), the ``seed`` of velocities and thermostat, the guards every
    written frame is checked against, and whether a run that breaks them ends kept (``keep_unstable``) or
    fails."""

    timestep_fs: float
    steps: int
    write_interval: int
    thermostat: Mapping
    seed: int
    limits: SanityLimits
    keep_unstable: bool = False

    @classmethod
    def of_job(cls, settings: MDSettings, launch: MDLaunch) -> RunSettings:
        """From a job's MD settings and its launch record (its guards)."""
        integration = {name: getattr(settings, name) for name in INTEGRATION}
        return cls(**integration, limits=launch.limits, keep_unstable=launch.keep_unstable_runs)


def check_frame(atoms: Atoms, step: int, limits: SanityLimits) -> None:
    """Raise :class:`MDError` if the frame breaks ``limits``."""
    energy, forces = atoms.get_potential_energy(), atoms.get_forces()
    if not (np.isfinite(energy) and np.isfinite(forces).all()):
        raise MDError(f"step {step}: non-finite energy or forces from the model")
    temperature = atoms.get_temperature()
    if temperature > limits.max_temperature_K:
        raise MDError(
            f"step {step}: temperature {temperature:.0f} K exceeds md.max_temperature_K = {limits.max_temperature_K}"
        )
    closest, _, _ = closest_pair(atoms.positions, atoms.cell.lengths())
    if closest < limits.min_distance_A:
        raise MDError(
            f"step {step}: two atoms are {closest:.2f} Å apart, below md.min_distance_A = {limits.min_distance_A}"
        )


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
    run: RunSettings,
) -> int:
    """Run ``run.steps`` NVT steps, writing every ``run.write_interval``-th frame (H5MD), and return the number
    of frames in the finished trajectory (the starting frame included).

    The run writes to its partial file (:func:`~mlip_transfer.files.partial_path`) and moves it to
    ``trajectory_path`` only when done, so a half-written trajectory never passes as a result. If a partial
    file of an interrupted run is there, the run continues from its last whole frame (positions, velocities,
    thermostat random state and step); frames written before the interruption are kept once. Each written
    frame is checked against ``run.limits`` first: on a violation :class:`MDError` is raised, and the partial trajectory
    keeps every frame before it; with ``run.keep_unstable`` the run ends there instead, its trajectory marked
    with the reason (:func:`~mlip_transfer.dynamics.trajectory.stop_reason`): a model that drives its MD
    out of physical ground has given a result, not a failed job.
    """
    partial = partial_path(trajectory_path)
    atoms = atoms.copy()
    atoms.calc = calculator
    checkpoint = _restore(partial, atoms) if partial.exists() else None
    if checkpoint is None:
        thermalize(atoms, temperature_K, run.seed)
    dynamics = nvt_dynamics(
        atoms, temperature_K=temperature_K, timestep_fs=run.timestep_fs, thermostat=run.thermostat, seed=run.seed
    )
    resume = checkpoint is not None
    if resume:
        dynamics.nsteps, dynamics.rng.bit_generator.state = checkpoint
        logging.getLogger(__name__).info("resuming %s from step %d of %d", partial, dynamics.nsteps, run.steps)

    def integrate() -> None:
        with H5MDWriter(partial, atoms, timestep_ps=fs_to_ps(run.timestep_fs), append=resume) as writer:

            def write() -> None:
                check_frame(atoms, dynamics.nsteps, run.limits)
                writer.write(atoms, dynamics.nsteps, json.dumps(dynamics.rng.bit_generator.state))

            dynamics.attach(write, interval=run.write_interval)  # ASE also calls it at step 0 of a fresh run
            dynamics.run(run.steps - dynamics.nsteps)

    return run_to_trajectories(integrate, [trajectory_path], run)[0]


def thermalize(atoms: Atoms, temperature_K: float, seed: int) -> None:
    """Maxwell–Boltzmann velocities at ``temperature_K`` from ``seed``, without centre-of-mass drift."""
    thermalize_momenta(atoms, temperature_K, rng=np.random.default_rng(seed))
    Stationary(atoms)


def run_to_trajectories(
    integrate: Callable[[], None], trajectory_paths: Sequence[str | os.PathLike], run: RunSettings
) -> list[int]:
    """The life of an MD job's trajectories, the same for every engine: ``integrate`` writes every box to its
    partial file (closing them before it returns or raises); a frame that breaks the guards either fails the
    job (its partial files kept for a look) or, with ``run.keep_unstable``, ends the run with every trajectory
    marked with the reason. The partial files then become the trajectories; returns their frame counts."""
    partials = [partial_path(p) for p in trajectory_paths]
    try:
        integrate()
    except MDError as error:
        if not run.keep_unstable:
            raise
        logging.getLogger(__name__).warning("MD stopped early, kept up to its last good frame: %s", error)
        for partial in partials:
            trajectory.mark_stopped(partial, str(error))
    counts = [trajectory.frame_count(p) for p in partials]
    for partial, path in zip(partials, trajectory_paths, strict=True):
        partial.replace(path)
    return counts


def _restore(partial: Path, atoms: Atoms) -> tuple[int, dict] | None:
    """Load positions and velocities of the last whole frame of an interrupted run into ``atoms``;
    return that frame's step and thermostat random state, or None if there is nothing to resume."""
    try:
        last = trajectory.checkpoint(partial, species=atoms.numbers)
    except ValueError as error:
        raise MDError(str(error)) from error
    if last is None:
        return None
    atoms.positions = last.positions_A
    atoms.set_velocities(last.velocities_A_per_ps / trajectory.ASE_VELOCITY_IN_A_PER_PS)
    return last.step, json.loads(last.random_state)
