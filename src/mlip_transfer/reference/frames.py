"""CP2K AIMD output turned into extended-XYZ frames that MACE can train on.

CP2K writes positions in Å, forces in Hartree/Bohr and energies in Hartree, and its XYZ files carry no
cell. Frames come out with the cell and periodic boundaries set, the potential energy in eV under
``info["REF_energy"]`` and forces in eV/Å under ``arrays["REF_forces"]`` (MACE's ``--energy_key`` and
``--forces_key``; the ``REF_`` prefix keeps ASE from mistaking them for calculator results), with the MD
step and time (fs) in ``info["md_step"]`` and ``info["time_fs"]``.

Files are streamed: a first pass reads only the comment lines (which copy of a repeated step to keep), a
second yields one frame at a time, so a 60,000-frame archive needs the memory of one frame.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from ase import Atoms

from .cp2k_output import (
    HARTREE_EV,
    HARTREE_PER_BOHR_EV_PER_A,
    TIME_PRINTED_FS,
    BadFrame,
    CP2KError,
    CutFrame,
    XYZBlock,
    comment_energies,
    comment_time_fs,
    read_energies,
    xyz_blocks,
)
from .plausibility import FrameCheck

ENERGY_KEY = "REF_energy"
FORCES_KEY = "REF_forces"


class FramesError(ValueError):
    """Trajectory files that do not describe one run's frames (the message names the file and frame)."""


@dataclass(frozen=True)
class KeptFrames:
    """Which written frames of consecutive XYZ files make the trajectory: ``kept[i]`` holds the frame
    indices of file i kept (a step written twice, at a restart, keeps its later copy); ``steps`` and
    ``comments`` are those of the kept frames, in order."""

    files: tuple[str, ...]
    kept: tuple[frozenset[int], ...]
    steps: tuple[int, ...]
    comments: tuple[str, ...]


def kept_frames(files: Sequence[str | os.PathLike]) -> KeptFrames:
    """Read the comment lines of consecutive CP2K XYZ files (a run's segments, in order) and keep what the
    run's trajectory is: a step written again is a restart from it, whose frames replace everything written
    from that step on. A step never written before, earlier than the last, is an error (time runs
    backwards); so is a gap (:func:`_check_spacing`). A frame cut off at the end of a segment that is not the
    last (a killed job) is where the next one took over."""
    kept: dict[int, tuple[int, int, str]] = {}  # step: (file, frame, comment), steps rising
    for i, path in enumerate(files):
        for k, block in enumerate(_blocks(path, values=False, cut_allowed=i < len(files) - 1)):
            last = next(reversed(kept), None)
            if last is not None and block.step <= last:
                if block.step not in kept:
                    raise FramesError(
                        f"{path}: frame {k} (step {block.step}) comes after step {last}: time runs backwards "
                        "(segments out of order?)"
                    )
                for step in [s for s in reversed(kept) if s >= block.step]:
                    del kept[step]
            kept[block.step] = (i, k, block.comment)
    steps, where = list(kept), list(kept.values())
    _check_spacing(files, steps, where)
    chosen = tuple(frozenset(k for j, k, _ in where if j == i) for i in range(len(files)))
    return KeptFrames(tuple(map(str, files)), chosen, tuple(steps), tuple(c for _, _, c in where))


def _check_spacing(files: Sequence[str | os.PathLike], steps: list[int], where: list[tuple[int, int, str]]) -> None:
    """Kept frames must be evenly spaced: in time where ``time =`` is printed (to CP2K's 10⁻³ fs), else in
    steps. A published archive's step counter may be uneven (its first frame ``i = 1`` at 0 fs, the next
    ``i = 200`` at 100 fs) while its times are not. A gap names the file, the frame and the field that shows it."""
    times = [comment_time_fs(comment) for _, _, comment in where]
    by_time = None not in times
    clock, tolerance = (times, TIME_PRINTED_FS) if by_time else (steps, 0)
    for n in range(2, len(steps)):
        gap, first_gap = clock[n] - clock[n - 1], clock[1] - clock[0]
        if abs(gap - first_gap) > tolerance:
            i, k, _ = where[n]
            problem = "frames are missing" if gap > first_gap else "frames are unevenly spaced"
            shown = (
                f"(step {steps[n]}, time = {times[n]:.3f} fs) follows time = {times[n - 1]:.3f} fs, but frames are "
                f"{first_gap:.3f} fs apart (their 'time =' fields)"
                if by_time
                else f"(step {steps[n]}) follows step {steps[n - 1]}, but frames are {first_gap} steps apart (their "
                "step counter 'i ='; no 'time =' printed)"
            )
            raise FramesError(f"{files[i]}: frame {k} {shown}: {problem}")


def iter_kept(frames: KeptFrames) -> Iterator[XYZBlock]:
    """The kept frames, parsed, one at a time."""
    for i, path in enumerate(frames.files):
        for k, block in enumerate(_blocks(path, cut_allowed=i < len(frames.files) - 1)):
            if k in frames.kept[i]:
                yield block


def cp2k_frames(*files_and_cell, **options) -> list[Atoms]:
    """Every frame of :func:`iter_cp2k_frames` (the same arguments), as a list."""
    return list(iter_cp2k_frames(*files_and_cell, **options))


def iter_cp2k_frames(
    positions_files: str | os.PathLike | Sequence[str | os.PathLike],
    forces_files: str | os.PathLike | Sequence[str | os.PathLike],
    energies_files: str | os.PathLike | Sequence[str | os.PathLike] | None,
    cell_A: Sequence[float],
    *,
    skip_steps: int = 0,
    skip_frames: int = 0,
    stride: int = 1,
    symbols: Sequence[str] | None = None,
    check: FrameCheck | None = None,
) -> Iterator[Atoms]:
    """Frames with cell, pbc, energy (eV) and forces (eV/Å), from step ``skip_steps`` on and past the first
    ``skip_frames`` kept frames (an archive's step counter may be uneven: frames count), every ``stride``-th.

    Each file argument is one file or the files of consecutive segments of one run, in order; a step
    written by two segments (the restart point) is kept once. Without ``energies_files`` (a run whose
    ``.ener`` files were not kept) time and energy come from the position files' comment lines. Every frame
    must hold ``symbols`` (default: the atoms of the first frame used), in that order, with finite energy
    and forces, and pass ``check`` (its physical plausibility) where given.
    """
    positions, forces = kept_frames(_file_list(positions_files)), kept_frames(_file_list(forces_files))
    positions_file, forces_file = ", ".join(positions.files), ", ".join(forces.files)
    if positions.steps != forces.steps:
        raise FramesError(
            f"{positions_file} has {len(positions.steps)} frames and {forces_file} has {len(forces.steps)}; "
            f"their MD steps differ (first mismatch near step {_first_mismatch(positions.steps, forces.steps)})"
        )
    energies, energies_file = _energies(positions, energies_files)
    missing = [s for s in positions.steps if s not in energies]
    if missing:
        raise FramesError(f"{energies_file} lacks the energies of {len(missing)} printed steps, first {missing[0]}")
    symbols, used = list(symbols) if symbols else None, 0
    for n, (pos, frc) in enumerate(zip(iter_kept(positions), iter_kept(forces), strict=True)):
        if pos.step < skip_steps or n < skip_frames:
            continue
        used += 1
        if (used - 1) % stride:
            continue
        symbols = symbols or pos.symbols
        _check_atoms(pos, frc, symbols, positions, forces, n)
        time_fs, energy_hartree = energies[pos.step]
        atoms = Atoms(pos.symbols, positions=pos.values, cell=list(cell_A), pbc=True)
        atoms.info.update({ENERGY_KEY: energy_hartree * HARTREE_EV, "md_step": pos.step, "time_fs": time_fs})
        atoms.arrays[FORCES_KEY] = frc.values * HARTREE_PER_BOHR_EV_PER_A
        if not (np.isfinite(atoms.info[ENERGY_KEY]) and np.isfinite(atoms.arrays[FORCES_KEY]).all()):
            raise FramesError(f"step {pos.step}: NaN or infinite energy or forces in {energies_file} / {forces_file}")
        if check:
            check(atoms, atoms.info[ENERGY_KEY], atoms.arrays[FORCES_KEY], f"{_file_of(positions, n)}: step {pos.step}")
        yield atoms


def _check_atoms(pos: XYZBlock, frc: XYZBlock, symbols: list[str], positions, forces, n: int) -> None:
    """One frame's atoms are the trajectory's, and its forces are those atoms'."""
    if pos.symbols != symbols:
        raise FramesError(
            f"{_file_of(positions, n)}: frame of step {pos.step} holds {_formula(pos.symbols)}, not the "
            f"{_formula(symbols)} of the first frame (in the same order): one trajectory, one composition"
        )
    if frc.symbols != pos.symbols:
        raise FramesError(
            f"{_file_of(forces, n)}: step {pos.step}: forces of {len(frc.symbols)} atoms ({_formula(frc.symbols)}) "
            f"do not match the {len(pos.symbols)} atoms of {_file_of(positions, n)}"
        )


def _energies(positions: KeptFrames, energies_files) -> tuple[dict[int, tuple[float, float]], str]:
    """``{step: (time in fs, energy in Hartree)}`` from ``.ener`` files, else the position comments."""
    if energies_files:
        files = _file_list(energies_files)
        return {step: row for f in files for step, row in read_energies(f).items()}, ", ".join(map(str, files))
    blocks = [XYZBlock(s, [], None, 0, c) for s, c in zip(positions.steps, positions.comments, strict=True)]
    return comment_energies(blocks, ", ".join(positions.files)), ", ".join(positions.files)


def _file_of(frames: KeptFrames, n: int) -> str:
    """The file the n-th kept frame was read from."""
    for path, kept in zip(frames.files, frames.kept, strict=True):
        if n < len(kept):
            return path
        n -= len(kept)
    return frames.files[-1]


def _formula(symbols: Sequence[str]) -> str:
    return Atoms(symbols).get_chemical_formula()


def _blocks(path, values: bool = True, cut_allowed: bool = False) -> Iterator[XYZBlock]:
    try:
        yield from xyz_blocks(path, values=values)
    except CutFrame as error:
        if not cut_allowed:
            raise FramesError(str(error)) from error
    except (BadFrame, CP2KError) as error:
        raise FramesError(str(error)) from error


def _file_list(files) -> list:
    return [files] if isinstance(files, str | os.PathLike) else list(files)


def _first_mismatch(a: Sequence[int], b: Sequence[int]) -> int:
    return next((x for x, y in zip(a, b, strict=False) if x != y), min(len(a), len(b)))
