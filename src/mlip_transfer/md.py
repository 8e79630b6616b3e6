"""Production NVT molecular dynamics with ASE and a MACE calculator, written as H5MD.

Trajectories are H5MD files (de Buyl et al., Comput. Phys. Commun. 185, 1546 (2014); HDF5, read by
MDAnalysis, VMD and h5py): resizable datasets are appended frame by frame, and any block of frames is
read back in one call. Stored per frame: step, time (ps), positions (Å, unwrapped: ASE's integrators
never wrap), velocities (Å/ps), potential energy (eV) and temperature (K); once: species, box edges (Å).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import h5py
import numpy as np
from ase import Atoms, units
from ase.md.bussi import Bussi
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import Stationary, thermalize_momenta

THERMOSTATS = ("bussi", "langevin")
ANGSTROM_PER_PS = units.Angstrom / (1000 * units.fs)  # ASE velocity unit → Å/ps conversion divisor


class H5MDWriter:
    """Append ASE frames to an H5MD file (``/particles/all/...`` and ``/observables/...``)."""

    def __init__(self, path: str | os.PathLike, atoms: Atoms, timestep_ps: float):
        self._file = h5py.File(path, "w")
        self._timestep_ps = timestep_ps
        h5md = self._file.create_group("h5md")
        h5md.attrs["version"] = np.array([1, 1])
        h5md.create_group("author").attrs["name"] = "mlip-transfer"
        h5md.create_group("creator").attrs.update({"name": "mlip_transfer.md", "version": "1"})
        particles = self._file.create_group("particles/all")
        particles.create_dataset("species", data=atoms.numbers)
        box = particles.create_group("box")
        box.attrs.update({"dimension": 3, "boundary": np.array([b"periodic"] * 3)})
        box.create_dataset("edges", data=atoms.cell.lengths())
        n = len(atoms)
        self._series = {
            "particles/all/position": ((n, 3), "Angstrom"),
            "particles/all/velocity": ((n, 3), "Angstrom ps-1"),
            "observables/potential_energy": ((), "eV"),
            "observables/temperature": ((), "K"),
        }
        for name, (shape, unit) in self._series.items():
            group = self._file.create_group(name)
            value = group.create_dataset(
                "value",
                shape=(0, *shape),
                maxshape=(None, *shape),
                dtype=np.float64,
                chunks=(32, *shape) if shape else (1024,),
            )
            value.attrs["unit"] = unit
            group.create_dataset("step", shape=(0,), maxshape=(None,), dtype=np.int64, chunks=(1024,))
            time = group.create_dataset("time", shape=(0,), maxshape=(None,), dtype=np.float64, chunks=(1024,))
            time.attrs["unit"] = "ps"

    def write(self, atoms: Atoms, step: int) -> None:
        values = {
            "particles/all/position": atoms.positions,
            "particles/all/velocity": atoms.get_velocities() * ANGSTROM_PER_PS,
            "observables/potential_energy": atoms.get_potential_energy() if atoms.calc is not None else np.nan,
            "observables/temperature": atoms.get_temperature(),
        }
        for name, value in values.items():
            group = self._file[name]
            i = group["value"].shape[0]
            for key, item in (("value", value), ("step", step), ("time", step * self._timestep_ps)):
                group[key].resize(i + 1, axis=0)
                group[key][i] = item

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> H5MDWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_h5md(
    path: str | os.PathLike, start: int = 0, stop: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(atomic numbers, box edges in Å, positions (frames, atoms, 3) in Å) of frames ``start:stop``."""
    with h5py.File(path, "r") as f:
        particles = f["particles/all"]
        return particles["species"][:], particles["box/edges"][:], particles["position/value"][start:stop]


def h5md_length(path: str | os.PathLike) -> int:
    with h5py.File(path, "r") as f:
        return f["particles/all/position/value"].shape[0]


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
    """Thermalise velocities, run ``steps`` NVT steps and write every ``write_interval``-th frame (H5MD).

    Returns the number of frames written (the starting frame included).
    """
    atoms = atoms.copy()
    atoms.calc = calculator
    thermalize_momenta(atoms, temperature_K, rng=np.random.default_rng(seed))
    Stationary(atoms)
    dynamics = nvt_dynamics(
        atoms, temperature_K=temperature_K, timestep_fs=timestep_fs, thermostat=thermostat, seed=seed
    )
    with H5MDWriter(trajectory_path, atoms, timestep_ps=timestep_fs / 1000.0) as writer:
        dynamics.attach(lambda: writer.write(atoms, dynamics.nsteps), interval=write_interval)
        dynamics.run(steps)
    return steps // write_interval + 1
