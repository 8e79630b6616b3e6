"""CP2K AIMD output turned into extended-XYZ frames that MACE can train on.

CP2K writes positions in Å, forces in Hartree/Bohr and energies in Hartree, and its XYZ files carry no
cell. Frames come out with the cell and periodic boundaries set, the potential energy in eV under
``info["REF_energy"]`` and forces in eV/Å under ``arrays["REF_forces"]`` (MACE's ``--energy_key`` and
``--forces_key``; the ``REF_`` prefix keeps ASE from mistaking them for calculator results).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from ase import Atoms

from .cp2k_output import (
    HARTREE_EV,
    HARTREE_PER_BOHR_EV_PER_A,
    CutFrame,
    XYZBlock,
    comment_energies,
    read_energies,
    read_xyz,
)

ENERGY_KEY = "REF_energy"
FORCES_KEY = "REF_forces"


class FramesError(ValueError):
    """CP2K trajectory files that do not describe the same frames."""


def cp2k_frames(
    positions_files: str | os.PathLike | Sequence[str | os.PathLike],
    forces_files: str | os.PathLike | Sequence[str | os.PathLike],
    energies_files: str | os.PathLike | Sequence[str | os.PathLike] | None,
    cell_A: Sequence[float],
    *,
    skip_steps: int = 0,
) -> list[Atoms]:
    """Frames with cell, pbc, energy (eV) and forces (eV/Å), from step ``skip_steps`` on.

    Each file argument is one file or the files of consecutive segments of one run, in order; a step
    written by two segments (the restart point) is kept once. Without ``energies_files`` (a run whose
    ``.ener`` files were not kept) time and energy come from the position files' comment lines.
    """
    positions_files, forces_files = _file_list(positions_files), _file_list(forces_files)
    positions, forces = (
        _latest_per_step([b for f in files for b in _read_xyz(f)]) for files in (positions_files, forces_files)
    )
    positions_file, forces_file = (", ".join(map(str, files)) for files in (positions_files, forces_files))
    if energies_files:
        energies_files = _file_list(energies_files)
        energies = {step: row for f in energies_files for step, row in read_energies(f).items()}
        energies_file = ", ".join(map(str, energies_files))
    else:
        energies, energies_file = comment_energies(positions, positions_file), positions_file
    pos_steps, frc_steps = [b.step for b in positions], [b.step for b in forces]
    if pos_steps != frc_steps:
        raise FramesError(
            f"{positions_file} has {len(pos_steps)} frames and {forces_file} has {len(frc_steps)}; "
            f"their MD steps differ (first mismatch near step {_first_mismatch(pos_steps, frc_steps)})"
        )
    missing = [s for s in pos_steps if s not in energies]
    if missing:
        raise FramesError(f"{energies_file} lacks the energies of {len(missing)} printed steps, first {missing[0]}")
    frames = []
    for pos, frc in zip(positions, forces, strict=True):
        if pos.step < skip_steps:
            continue
        if pos.symbols != frc.symbols:
            raise FramesError(f"step {pos.step}: atoms of {positions_file} and {forces_file} differ")
        time_fs, energy_hartree = energies[pos.step]
        atoms = Atoms(pos.symbols, positions=pos.values, cell=list(cell_A), pbc=True)
        atoms.info.update({ENERGY_KEY: energy_hartree * HARTREE_EV, "md_step": pos.step, "time_fs": time_fs})
        atoms.arrays[FORCES_KEY] = frc.values * HARTREE_PER_BOHR_EV_PER_A
        if not (np.isfinite(atoms.info[ENERGY_KEY]) and np.isfinite(atoms.arrays[FORCES_KEY]).all()):
            raise FramesError(f"step {pos.step}: NaN or infinite energy or forces in {energies_file} / {forces_file}")
        frames.append(atoms)
    return frames


def _read_xyz(path) -> list[XYZBlock]:
    try:
        return read_xyz(path)
    except CutFrame as error:
        raise FramesError(str(error)) from error


def _file_list(files) -> list:
    return [files] if isinstance(files, str | os.PathLike) else list(files)


def _latest_per_step(blocks: list[XYZBlock]) -> list[XYZBlock]:
    """One block per MD step, the last one written: a run restarted from its restart file repeats the
    steps between that file and the interruption, and the repeat is what the trajectory continues from."""
    return sorted({b.step: b for b in blocks}.values(), key=lambda b: b.step)


def _first_mismatch(a: Sequence[int], b: Sequence[int]) -> int:
    return next((x for x, y in zip(a, b, strict=False) if x != y), min(len(a), len(b)))
