"""The reference method on configurations a model's own MD visits: frames picked from an MD trajectory and
re-labelled with CP2K single points of exactly the AIMD's method (the authors' toolkit calls such a set a
reference trajectory). A model can be accurate on AIMD frames and still drift, in its own dynamics, into
regions no AIMD frame covers: these frames measure its error where it is used.

Each single point is CP2K's MD at step 0 (the AIMD's own input, printing positions, forces and energy), in a
folder of its own; a finished frame is written beside it and never recomputed, so a killed job continues.
Energies in eV, forces in eV/Å (:mod:`.frames`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import read

from ..files import write_frames
from ..reference import cp2k, cp2k_output
from ..reference.frames import cp2k_frames
from ..units import FS_PER_PS
from . import trajectory

PROJECT = "single_point"


def select_frames(trajectory_path: str | os.PathLike, n_frames: int | None, skip_frames: int) -> list[Atoms]:
    """``n_frames`` frames (None: all) of an MD trajectory spread evenly over what follows its first
    ``skip_frames`` (equilibration), each with its cell, its MD step in ``info["md_step"]`` and its time in
    ``info["time_fs"]`` (wrapped into the box)."""
    frames = trajectory.read(trajectory_path)
    available = np.arange(skip_frames, len(frames.steps))
    n_frames = len(available) if n_frames is None else n_frames
    if len(available) < n_frames:
        raise ValueError(
            f"{trajectory_path}: {len(available)} frames after {skip_frames} of equilibration, {n_frames} asked for"
        )
    picked = available[np.linspace(0, len(available) - 1, n_frames).round().astype(int)]
    selected = []
    for i in picked:
        atoms = Atoms(numbers=frames.species, positions=frames.positions_A[i], cell=frames.box_edges_A, pbc=True)
        atoms.wrap()
        atoms.info["md_step"] = int(frames.steps[i])
        atoms.info["time_fs"] = float(frames.times_ps[i] * FS_PER_PS)
        selected.append(atoms)
    return selected


def frame_folder(run_dir: str | os.PathLike, md_step: int) -> Path:
    """Where :func:`label_frames` runs the single point of the frame at ``md_step`` (and where CP2K looks
    for a wavefunction to start from)."""
    return Path(run_dir) / f"frame_{md_step}"


def label_frames(
    frames: Sequence[Atoms],
    method: Mapping,
    run_dir: str | os.PathLike,
    *,
    command: Sequence[str],
    threads: int,
    xmlspec: str | os.PathLike | None = None,
) -> list[Atoms]:
    """Every frame with the reference energy and forces (``REF_energy``, ``REF_forces``), each from a CP2K
    single point in ``run_dir/frame_<md step>/``; frames finished by an earlier, interrupted job are read back."""
    labelled = []
    for atoms in frames:
        folder = frame_folder(run_dir, atoms.info["md_step"])
        done = folder / "labelled.extxyz"
        if not done.exists():
            tree = cp2k.single_point_input_tree(atoms, method, project=PROJECT)
            cp2k.run_input(tree, folder, PROJECT, command=command, threads=threads, xmlspec=xmlspec)
            files = (folder / cp2k_output.md_file_name(PROJECT, kind) for kind in cp2k_output.TRAJECTORY_FILES)
            (frame,) = cp2k_frames(*files, atoms.cell.lengths())
            frame.info["md_step"] = atoms.info["md_step"]
            write_frames(done, frame)
        labelled.append(read(done))
    return labelled
