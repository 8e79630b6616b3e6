"""Trajectory files: the H5MD layout, in this one place, and streaming any trajectory in chunks of frames.

MD trajectories are H5MD files (de Buyl et al., Comput. Phys. Commun. 185, 1546 (2014); HDF5, read by
MDAnalysis, VMD and h5py): resizable datasets are appended frame by frame, and any block of frames is read
back in one call. Stored per frame: step, time (ps), positions (Å, unwrapped), velocities (Å/ps), forces
(eV/Å), potential energy (eV) and temperature (K); once: species (atomic numbers) and box edges (Å); and, per frame, the
engine's random-number state (JSON), so that an interrupted run continues exactly where its last frame left
it. A frame counts once every series holds it: a write cut off between datasets is not a frame.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
from ase import Atoms, units
from ase.data import chemical_symbols
from ase.io import iread

from ..geometry import PositionChunk, chunks_from_atoms

# ASE's velocity unit is Å per its time unit (Å·√(amu/eV) ≈ 10.18 fs): multiply by this for Å/ps
ASE_VELOCITY_IN_A_PER_PS = 1000.0 * units.fs / units.Angstrom
POSITION, VELOCITY, FORCE = "particles/all/position", "particles/all/velocity", "particles/all/force"
ENERGY, TEMPERATURE = "observables/potential_energy", "observables/temperature"
SERIES = {POSITION: "Angstrom", VELOCITY: "Angstrom ps-1", FORCE: "eV Angstrom-1", ENERGY: "eV", TEMPERATURE: "K"}
RNG_STATE = "observables/engine_rng_state"
STOPPED = "stopped_early"  # attribute of the file: why an MD run ended before its last step
SPECIES, BOX_EDGES = "particles/all/species", "particles/all/box/edges"


@dataclass(frozen=True)
class Frames:
    """Whole frames of a trajectory: atomic numbers, box edges (Å), MD steps, times (ps), positions (Å,
    frames × atoms × 3, unwrapped), velocities (Å/ps), forces (eV/Å), potential energies (eV) and temperatures
    (K)."""

    species: np.ndarray
    box_edges_A: np.ndarray
    steps: np.ndarray
    times_ps: np.ndarray
    positions_A: np.ndarray
    velocities_A_per_ps: np.ndarray
    forces_eV_per_A: np.ndarray
    potential_energy_eV: np.ndarray
    temperature_K: np.ndarray


@dataclass(frozen=True)
class Checkpoint:
    """One whole frame to continue a run from: its step, positions (Å), velocities (Å/ps) and the engine's
    random state after it, and how many frames the file holds up to it."""

    step: int
    positions_A: np.ndarray
    velocities_A_per_ps: np.ndarray
    random_state: str
    frames: int


def whole_frames(f: h5py.File) -> int:
    """Whole frames in an open trajectory: a frame counts once every series holds it."""
    return min(len(f[RNG_STATE]), *(len(f[name][key]) for name in SERIES for key in ("value", "step", "time")))


def frame_count(path: str | os.PathLike) -> int:
    """Whole frames in a trajectory file (0 for a file that is unreadable or not yet a trajectory)."""
    try:
        with h5py.File(path, "r", locking=False) as f:
            return whole_frames(f)
    except (OSError, KeyError):
        return 0


def mark_stopped(path: str | os.PathLike, reason: str) -> None:
    """Record why a run ended before its last step."""
    with h5py.File(path, "a") as f:
        f.attrs[STOPPED] = reason


def stop_reason(path: str | os.PathLike) -> str:
    """Why the run of a trajectory ended early ("" for a complete run or a file that is not H5MD)."""
    if not h5py.is_hdf5(path):
        return ""
    with h5py.File(path, "r") as f:
        return str(f.attrs.get(STOPPED, ""))


def read(path: str | os.PathLike, start: int = 0, stop: int | None = None) -> Frames:
    """Whole frames ``start:stop`` of an H5MD trajectory."""
    with h5py.File(path, "r") as f:
        stop = whole_frames(f) if stop is None else min(stop, whole_frames(f))
        return Frames(
            species=f[SPECIES][:],
            box_edges_A=f[BOX_EDGES][:],
            steps=f[POSITION]["step"][start:stop],
            times_ps=f[POSITION]["time"][start:stop],
            positions_A=f[POSITION]["value"][start:stop],
            velocities_A_per_ps=f[VELOCITY]["value"][start:stop],
            forces_eV_per_A=f[FORCE]["value"][start:stop],
            potential_energy_eV=f[ENERGY]["value"][start:stop],
            temperature_K=f[TEMPERATURE]["value"][start:stop],
        )


def checkpoint(
    path: str | os.PathLike, frame: int | None = None, species: np.ndarray | None = None
) -> Checkpoint | None:
    """Frame ``frame`` (default: the last whole one) of an interrupted run, or None if there is nothing to
    continue from; with ``species``, a file of other atoms is an error rather than a start."""
    with h5py.File(path, "r") as f:
        n = whole_frames(f) if frame is None else frame + 1
        if n == 0 or n > whole_frames(f) or not f[RNG_STATE][n - 1]:
            return None
        if species is not None and not np.array_equal(f[SPECIES][:], species):
            raise ValueError(f"{path}: its atoms differ from the MD's start structure; delete it to start over")
        state = f[RNG_STATE][n - 1]
        return Checkpoint(
            step=int(f[POSITION]["step"][n - 1]),
            positions_A=f[POSITION]["value"][n - 1],
            velocities_A_per_ps=f[VELOCITY]["value"][n - 1],
            random_state=state.decode() if isinstance(state, bytes) else state,
            frames=n,
        )


def read_chunks(path: str | os.PathLike, chunk_frames: int = 32) -> Iterator[PositionChunk]:
    """Stream a trajectory in chunks of whole frames: H5MD (the MD stage's output) one block read per
    chunk, anything else ASE reads (extended XYZ AIMD frames, ``.traj``) through ``iread``."""
    if not h5py.is_hdf5(path):
        yield from chunks_from_atoms(iread(path, index=":"), chunk_frames)
        return
    with h5py.File(path, "r") as f:
        symbols, box = np.array(chemical_symbols)[f[SPECIES][:]], f[BOX_EDGES][:]
        positions, n = f[POSITION]["value"], whole_frames(f)
        for start in range(0, n, chunk_frames):
            yield PositionChunk(symbols, box, positions[start : min(start + chunk_frames, n)])


class H5MDWriter:
    """Append ASE frames to an H5MD trajectory; with ``append=True`` an existing file is continued, its
    trailing partial frame (a write cut off between datasets), and any frame after the first ``keep``,
    dropped first."""

    def __init__(
        self, path: str | os.PathLike, atoms: Atoms, timestep_ps: float, append: bool = False, keep: int | None = None
    ):
        self._timestep_ps = timestep_ps
        if append:  # keep the whole frames, or the first ``keep`` of them
            self._file = h5py.File(path, "a")
            n = whole_frames(self._file) if keep is None else min(keep, whole_frames(self._file))
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
        h5md.create_group("creator").attrs.update({"name": "mlip_transfer.dynamics", "version": "1"})
        self._file.create_dataset(SPECIES, data=atoms.numbers)
        box = self._file.create_group(str(Path(BOX_EDGES).parent))
        box.attrs.update({"dimension": 3, "boundary": np.array([b"periodic"] * 3)})
        box.create_dataset("edges", data=atoms.cell.lengths())
        shapes = {
            POSITION: (len(atoms), 3),
            VELOCITY: (len(atoms), 3),
            FORCE: (len(atoms), 3),
            ENERGY: (),
            TEMPERATURE: (),
        }
        for name, unit in SERIES.items():
            group, shape = self._file.create_group(name), shapes[name]
            chunks = (32, *shape) if shape else (1024,)
            value = group.create_dataset(
                "value", shape=(0, *shape), maxshape=(None, *shape), dtype=np.float64, chunks=chunks
            )
            value.attrs["unit"] = unit
            group.create_dataset("step", shape=(0,), maxshape=(None,), dtype=np.int64, chunks=(1024,))
            time = group.create_dataset("time", shape=(0,), maxshape=(None,), dtype=np.float64, chunks=(1024,))
            time.attrs["unit"] = "ps"
        self._file.create_dataset(RNG_STATE, shape=(0,), maxshape=(None,), dtype=h5py.string_dtype(), chunks=(256,))

    @property
    def frames(self) -> int:
        """Whole frames written so far."""
        return whole_frames(self._file)

    def write(self, atoms: Atoms, step: int, random_state: str = "") -> None:
        """Append one frame; ``random_state`` (JSON) is the engine's random state after it, for resuming."""
        values = {
            POSITION: atoms.positions,
            VELOCITY: atoms.get_velocities() * ASE_VELOCITY_IN_A_PER_PS,
            FORCE: atoms.get_forces() if atoms.calc is not None else np.full((len(atoms), 3), np.nan),
            ENERGY: atoms.get_potential_energy() if atoms.calc is not None else np.nan,
            TEMPERATURE: atoms.get_temperature(),
        }
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
