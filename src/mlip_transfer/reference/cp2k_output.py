"""CP2K's output files: their names (spelled here and nowhere else), units, and the parsers of each.

A CP2K run of project ``p`` writes ``p.out`` (its log), and an MD run ``p-pos-1.xyz`` (positions, Å),
``p-frc-1.xyz`` (forces, Hartree/Bohr), ``p-1.ener`` (step, time in fs, kinetic, temperature, potential
energy in Hartree, ...) and ``p-1.restart`` (every ``print_every`` steps). Its XYZ files carry the step in
each comment line (``i = <step>``) and no cell. One block iterator reads them for every reader here: a frame
cut off at the end (a killed writer) is an error when reading frames and the place to cut when resuming.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np

HARTREE_EV = 27.211386245988
BOHR_A = 0.529177210903
HARTREE_PER_BOHR_EV_PER_A = HARTREE_EV / BOHR_A
_STEP = re.compile(r"\bi\s*=\s*(\d+)")
_NUMBER = r"(-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)"
_TIME, _ENERGY = re.compile(rf"\btime\s*=\s*{_NUMBER}"), re.compile(rf"\bE\s*=\s*{_NUMBER}")
_TOTAL_ENERGY = re.compile(r"ENERGY\| Total FORCE_EVAL \( QS \) energy[^:]*:\s+(-?\d+\.\d+)")
TRAJECTORY_FILES = ("positions", "forces", "energies")  # what frames are read from, in this order
MD_FILES = (*TRAJECTORY_FILES, "restart")
AIMD_PROJECT = "aimd"  # the CP2K project of every AIMD segment


# CP2K prints times to 1e-3 fs: two frames' printed times differ from their true difference by up to 1e-3 fs,
# so two such differences agree to 2e-3 fs
TIME_PRINTED_FS = 2e-3


class CP2KError(RuntimeError):
    """CP2K failed or its output is not what it should be."""


def input_name(project: str) -> str:
    return f"{project}.inp"


def output_name(project: str) -> str:
    return f"{project}.out"


def md_file_name(project: str, kind: str) -> str:
    """CP2K's name of an MD run's ``positions``, ``forces``, ``energies`` or ``restart`` file."""
    names = {
        "positions": f"{project}-pos-1.xyz",
        "forces": f"{project}-frc-1.xyz",
        "energies": f"{project}-1.ener",
        "restart": f"{project}-1.restart",
    }
    if kind not in names:
        raise KeyError(f"unknown CP2K MD file {kind!r}; expected one of {MD_FILES}")
    return names[kind]


def wavefunction_name(project: str) -> str:
    """The SCF wavefunction CP2K writes beside a run's restart file and reads back with SCF_GUESS RESTART."""
    return f"{project}-RESTART.wfn"


def xyz_file_names(project: str) -> list[str]:
    """The XYZ trajectories an MD run of ``project`` appends to (cut back to whole frames on a resume)."""
    return [md_file_name(project, kind) for kind in ("positions", "forces")]


@dataclass
class XYZBlock:
    """One frame of a CP2K XYZ file: its MD step, symbols and values (n_atoms × 3: Å or Hartree/Bohr)."""

    step: int
    symbols: list[str]
    values: np.ndarray | None
    end_line: int  # index of the line after the frame
    comment: str = ""  # CP2K's: "i = <step>, time = <fs>, E = <Hartree>"


class BadFrame(ValueError):
    """A frame of an XYZ file that cannot be read (the message names the file and frame)."""


class CutFrame(BadFrame):
    """An XYZ file ending in part of a frame."""


def xyz_blocks(path: str | os.PathLike, *, values: bool = True) -> Iterator[XYZBlock]:
    """Every whole frame of a CP2K XYZ file in order, streamed (one frame in memory at a time; blank lines
    between frames are skipped). ``values=False`` leaves the atom lines unparsed (steps and comments only:
    symbols empty, values None). A frame cut off at the end raises :class:`CutFrame` after the whole ones."""
    with open(path) as handle:
        lines, line_no, frame = iter(handle), 0, 0
        for header in lines:
            line_no += 1
            if not header.strip():
                continue
            if not header.strip().isdigit():
                raise BadFrame(f"{path}: line {line_no} should give frame {frame}'s number of atoms: {header!r}")
            n_atoms = int(header)
            comment = next(lines, "")
            body = list(islice(lines, n_atoms))
            line_no += 1 + len(body)
            if len(body) < n_atoms or not comment or not body[-1].endswith("\n"):
                raise CutFrame(f"{path}: frame {frame} is cut off ({len(body)} of {n_atoms} atom lines, or a line cut)")
            match = _STEP.search(comment)
            if match is None:
                raise CP2KError(f"{path}: comment line {line_no - n_atoms} has no 'i = <step>'")
            symbols, parsed = _atom_lines(body, path, frame) if values else ([], None)
            frame += 1
            yield XYZBlock(int(match.group(1)), symbols, parsed, line_no, comment.strip())


def _atom_lines(body: list[str], path, frame: int) -> tuple[list[str], np.ndarray]:
    """Symbols and the n_atoms × 3 values of a frame's atom lines ("<symbol> <x> <y> <z>")."""
    table = np.array("".join(body).split())
    if table.size != 4 * len(body):
        raise CutFrame(f"{path}: frame {frame} is cut off (an atom line without a symbol and three values)")
    table = table.reshape(len(body), 4)
    try:
        return table[:, 0].tolist(), table[:, 1:].astype(float)
    except ValueError as error:  # e.g. CP2K's ****** for a number too wide for its column
        raise BadFrame(f"{path}: frame {frame}: {error}") from error


def read_xyz(path: str | os.PathLike) -> list[XYZBlock]:
    """Every frame of a CP2K ``-pos-``/``-frc-`` XYZ file; a truncated frame is an error."""
    return list(xyz_blocks(path))


def truncate_xyz_to_whole_frames(path: str | os.PathLike) -> None:
    """Cut an XYZ trajectory after its last whole frame (a killed writer may leave half a frame)."""
    keep = 0
    try:
        for block in xyz_blocks(path):
            keep = block.end_line
    except CutFrame:
        pass
    lines = Path(path).read_text().splitlines(keepends=True)
    Path(path).write_text("".join(lines[:keep]))


def comment_step(comment: str) -> int | None:
    """The MD step of a CP2K XYZ comment line (``i = <step>``), or None."""
    match = _STEP.search(comment)
    return int(match.group(1)) if match else None


def comment_time_fs(comment: str) -> float | None:
    """The time (fs) of a CP2K XYZ comment line (``time = <fs>``), or None where not printed."""
    match = _TIME.search(comment)
    return float(match.group(1)) if match else None


def comment_energies(blocks: Iterable[XYZBlock], path: str | os.PathLike) -> dict[int, tuple[float, float]]:
    """``{step: (time in fs, potential energy in Hartree)}`` from the comment lines of a CP2K position file
    (``i = …, time = …, E = …``): the energies of a run whose ``.ener`` file was not kept."""
    energies = {}
    for block in blocks:
        time, energy = _TIME.search(block.comment), _ENERGY.search(block.comment)
        if time is None or energy is None:
            raise CP2KError(f"{path}: step {block.step} has no 'time = <fs>, E = <Hartree>' in {block.comment!r}")
        energies[block.step] = (float(time.group(1)), float(energy.group(1)))
    return energies


def read_energies(path: str | os.PathLike) -> dict[int, tuple[float, float]]:
    """``{step: (time in fs, potential energy in Hartree)}`` from a CP2K ``.ener`` file (a repeated step
    keeps its last line)."""
    table = np.loadtxt(path, comments="#", ndmin=2)
    return {int(row[0]): (float(row[1]), float(row[4])) for row in table}


def restart_step(restart_file: str | os.PathLike) -> int:
    """The MD step a CP2K restart file was written at."""
    match = re.search(r"STEP_START_VAL\s+(\d+)", Path(restart_file).read_text())
    if match is None:
        raise CP2KError(f"{restart_file}: no STEP_START_VAL; not the restart file of an MD run")
    return int(match.group(1))


def final_energy_eV(output_file: str | os.PathLike) -> float:
    """The last total energy printed in a CP2K output, converted from Hartree to eV."""
    matches = _TOTAL_ENERGY.findall(Path(output_file).read_text())
    if not matches:
        raise CP2KError(f"{output_file}: no 'ENERGY| Total FORCE_EVAL' line; did the SCF run?")
    return float(matches[-1]) * HARTREE_EV


def check_finished(
    output: str, output_file: str | os.PathLike, input_file: str | os.PathLike, exit_code: int, reference: bool = True
) -> None:
    """A run that did not end cleanly is an error naming the file; so is a ``reference`` run (its energies and
    forces are data) with an SCF that did not converge, since CP2K carries on after one. (A geometry
    relaxation from a packed box may pass through a few; its end point is what it gives.)"""
    if exit_code != 0 or "PROGRAM ENDED AT" not in output[-2000:]:
        raise CP2KError(f"CP2K failed on {input_file} (exit {exit_code}); end of {output_file}:\n{output[-2000:]}")
    failures = output.count("SCF run NOT converged")
    if failures and reference:
        raise CP2KError(
            f"{output_file}: the SCF did not converge {failures} time(s); energies and forces of those steps are "
            "not converged — raise max_scf or change the SCF settings, then rerun"
        )
