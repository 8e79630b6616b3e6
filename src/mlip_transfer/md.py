"""Production NVT molecular dynamics with ASE and a MACE calculator, written as H5MD, resumable.

Trajectories are H5MD files (de Buyl et al., Comput. Phys. Commun. 185, 1546 (2014); HDF5, read by
MDAnalysis, VMD and h5py): resizable datasets are appended frame by frame, and any block of frames is
read back in one call. Stored per frame: step, time (ps), positions (Å, unwrapped: ASE's integrators
never wrap), velocities (Å/ps), potential energy (eV) and temperature (K); once: species, box edges (Å);
and, updated at every frame, the thermostat's random-number state, so that an interrupted run
continues exactly where its last frame left it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
from ase import Atoms, units
from ase.md.bussi import Bussi
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import Stationary, thermalize_momenta

from .geometry import minimum_image

THERMOSTATS = ("bussi", "langevin")
ANGSTROM_PER_PS = units.Angstrom / (1000 * units.fs)  # ASE velocity unit → Å/ps conversion divisor
SERIES = ("particles/all/position", "particles/all/velocity", "observables/potential_energy", "observables/temperature")
RNG_STATE = "observables/thermostat_rng_state"  # per frame: an interrupted run resumes exactly


class MDError(RuntimeError):
    """MD that left physical ground: the trajectory keeps every frame before the bad one."""


@dataclass(frozen=True)
class SanityLimits:
    """MD stops when energy or forces are not finite, the temperature exceeds ``max_temperature_K``,
    or two atoms come closer than ``min_distance_A`` (the workflow's are ``md.max_temperature_K`` and
    ``md.min_distance_A`` of the config)."""

    max_temperature_K: float
    min_distance_A: float


def run_settings(settings: Mapping, launch: Mapping) -> dict:
    """Keyword arguments of :func:`run_nvt` (and the torch-sim engine's ``run_nvt_batch``) shared by every
    box: from a job's MD settings (:meth:`mlip_transfer.study.Study.md_settings`) and the config's ``md``
    section (its guards)."""
    return {
        "timestep_fs": settings["timestep_fs"],
        "steps": settings["steps"],
        "write_interval": settings["write_interval"],
        "thermostat": settings["thermostat"],
        "seed": settings["seed"],
        "limits": SanityLimits(launch["max_temperature_K"], launch["min_distance_A"]),
    }


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
    delta = minimum_image(atoms.positions[:, None, :] - atoms.positions[None, :, :], atoms.cell.lengths())
    distances = np.linalg.norm(delta, axis=-1)[np.triu_indices(len(atoms), 1)]
    if distances.min() < limits.min_distance_A:
        raise MDError(
            f"step {step}: two atoms are {distances.min():.2f} Å apart, "
            f"below md.min_distance_A = {limits.min_distance_A}"
        )


class H5MDWriter:
    """Append ASE frames to an H5MD file (``/particles/all/...`` and ``/observables/...``); with
    ``append=True`` an existing file is continued, its trailing partial frame (a write cut off between
    datasets), and any frame after the first ``keep``, dropped first."""

    def __init__(
        self, path: str | os.PathLike, atoms: Atoms, timestep_ps: float, append: bool = False, keep: int | None = None
    ):
        self._timestep_ps = timestep_ps
        if append:  # keep the whole frames, or the first ``keep`` of them
            self._file = h5py.File(path, "a")
            n = frames_in(self._file) if keep is None else min(keep, frames_in(self._file))
            for name in SERIES:
                for key in ("value", "step", "time"):
                    self._file[name][key].resize(n, axis=0)
            self._file[RNG_STATE].resize(n, axis=0)
            return
        # Not SWMR: a killed SWMR writer leaves consistency flags that only the h5clear tool removes.
        # The file on disk is the state of the last flush (one per frame), plus at most part of a frame.
        self._file = h5py.File(path, "w")
        h5md = self._file.create_group("h5md")
        h5md.attrs["version"] = np.array([1, 1])
        h5md.create_group("author").attrs["name"] = "mlip-transfer"
        h5md.create_group("creator").attrs.update({"name": "mlip_transfer.md", "version": "1"})
        particles = self._file.create_group("particles/all")
        particles.create_dataset("species", data=atoms.numbers)
        box = particles.create_group("box")
        box.attrs.update({"dimension": 3, "boundary": np.array([b"periodic"] * 3)})
        box.create_dataset("edges", data=atoms.cell.lengths())
        shapes = dict(zip(SERIES, [(len(atoms), 3), (len(atoms), 3), (), ()], strict=True))
        units_ = dict(zip(SERIES, ["Angstrom", "Angstrom ps-1", "eV", "K"], strict=True))
        for name in SERIES:
            group, shape = self._file.create_group(name), shapes[name]
            chunks = (32, *shape) if shape else (1024,)
            value = group.create_dataset(
                "value", shape=(0, *shape), maxshape=(None, *shape), dtype=np.float64, chunks=chunks
            )
            value.attrs["unit"] = units_[name]
            group.create_dataset("step", shape=(0,), maxshape=(None,), dtype=np.int64, chunks=(1024,))
            time = group.create_dataset("time", shape=(0,), maxshape=(None,), dtype=np.float64, chunks=(1024,))
            time.attrs["unit"] = "ps"
        self._file.create_dataset(RNG_STATE, shape=(0,), maxshape=(None,), dtype=h5py.string_dtype(), chunks=(256,))

    def write(self, atoms: Atoms, step: int, random_state: str = "") -> None:
        """Append one frame; ``random_state`` (JSON) is the thermostat's random state after it, for resuming."""
        values = dict(
            zip(
                SERIES,
                [
                    atoms.positions,
                    atoms.get_velocities() * ANGSTROM_PER_PS,
                    atoms.get_potential_energy() if atoms.calc is not None else np.nan,
                    atoms.get_temperature(),
                ],
                strict=True,
            )
        )
        for name, value in values.items():
            group = self._file[name]
            i = group["value"].shape[0]
            for key, item in (("value", value), ("step", step), ("time", step * self._timestep_ps)):
                group[key].resize(i + 1, axis=0)
                group[key][i] = item
        states = self._file[RNG_STATE]
        states.resize(len(states) + 1, axis=0)
        states[-1] = random_state
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> H5MDWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def frames_in(f: h5py.File) -> int:
    """Whole frames in an open H5MD file: a frame counts once every series holds it."""
    return min(len(f[RNG_STATE]), *(len(f[name][key]) for name in SERIES for key in ("value", "step", "time")))


def read_h5md(
    path: str | os.PathLike, start: int = 0, stop: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(atomic numbers, box edges in Å, positions (frames, atoms, 3) in Å) of whole frames ``start:stop``."""
    with h5py.File(path, "r") as f:
        particles = f["particles/all"]
        stop = frames_in(f) if stop is None else min(stop, frames_in(f))
        return particles["species"][:], particles["box/edges"][:], particles["position/value"][start:stop]


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
    limits: SanityLimits,
) -> int:
    """Run ``steps`` NVT steps, writing every ``write_interval``-th frame (H5MD), and return the number of
    frames in the finished trajectory (the starting frame included).

    The run writes to ``<trajectory_path>.partial`` and moves it to ``trajectory_path`` only when done,
    so a half-written trajectory never passes as a result. If a partial file of an interrupted run is
    there, the run continues from its last whole frame (positions, velocities, thermostat random state
    and step); frames written before the interruption are kept once. Each written frame is checked
    against ``limits`` first: on a violation :class:`MDError` is raised, and the partial trajectory
    keeps every frame before it.
    """
    partial = Path(f"{trajectory_path}.partial")
    atoms = atoms.copy()
    atoms.calc = calculator
    checkpoint = _restore(partial, atoms) if partial.exists() else None
    if checkpoint is None:
        thermalize_momenta(atoms, temperature_K, rng=np.random.default_rng(seed))
        Stationary(atoms)
    dynamics = nvt_dynamics(
        atoms, temperature_K=temperature_K, timestep_fs=timestep_fs, thermostat=thermostat, seed=seed
    )
    resume = checkpoint is not None
    if resume:
        dynamics.nsteps, dynamics.rng.bit_generator.state = checkpoint
        logging.getLogger(__name__).info("resuming %s from step %d of %d", partial, dynamics.nsteps, steps)
    with H5MDWriter(partial, atoms, timestep_ps=timestep_fs / 1000.0, append=resume) as writer:

        def write() -> None:
            check_frame(atoms, dynamics.nsteps, limits)
            writer.write(atoms, dynamics.nsteps, json.dumps(dynamics.rng.bit_generator.state))

        dynamics.attach(write, interval=write_interval)  # ASE also calls it at step 0 of a fresh run
        dynamics.run(steps - dynamics.nsteps)
        n_frames = frames_in(writer._file)
    partial.replace(trajectory_path)
    return n_frames


def _restore(partial: Path, atoms: Atoms) -> tuple[int, dict] | None:
    """Load positions and velocities of the last whole frame of an interrupted run into ``atoms``;
    return that frame's step and thermostat random state, or None if there is nothing to resume."""
    with h5py.File(partial, "r") as f:
        n = frames_in(f)
        if n == 0 or not f[RNG_STATE][n - 1]:
            return None
        particles = f["particles/all"]
        if not np.array_equal(particles["species"][:], atoms.numbers):
            raise MDError(f"{partial}: its atoms differ from the MD's start structure; delete it to start over")
        atoms.positions = particles["position/value"][n - 1]
        atoms.set_velocities(particles["velocity/value"][n - 1] / ANGSTROM_PER_PS)
        return int(particles["position/step"][n - 1]), json.loads(f[RNG_STATE][n - 1])
