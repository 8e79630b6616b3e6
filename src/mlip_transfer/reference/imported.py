"""AIMD that exists already, imported as a study's frames: archives of CP2K runs, or trajectories any ASE
reader takes (extended XYZ with named keys, ASE ``.traj``).

A source is written in the config under ``concentrations[i].imported.training`` or ``.test``. Imported
frames come out in the format of a computed AIMD's (:mod:`mlip_transfer.reference.frames`: eV, eV/Å, the
cell set), so every stage after them is unchanged. Units are never guessed: CP2K's files are in Å,
Hartree/Bohr and Hartree; an ASE source states its energy and force units.

What planning needs (atoms, cell, frames, time between frames) is read from the ends of the files
(:func:`scan`, milliseconds for a 2 GB file); the import job streams every frame (:func:`source_frames`),
checking each, with the memory of one frame.

A CP2K archive's frames are placed by their ``time =`` fields where printed, by the step counter (``i =``)
only where not: published archives number their first frame ``i = 1`` at 0 fs and the next ``i = 200`` at
100 fs, and such an uneven step counter is logged, not taken for missing frames.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import iread, read
from ase.io.trajectory import Trajectory

from ..files import write_frames
from ..settings import canonical
from ..units import fs_to_ps
from .cp2k_output import (
    HARTREE_EV,
    HARTREE_PER_BOHR_EV_PER_A,
    TIME_PRINTED_FS,
    comment_step,
    comment_time_fs,
    xyz_blocks,
)
from .frames import ENERGY_KEY, FORCES_KEY, FramesError, iter_cp2k_frames
from .plausibility import FrameCheck

ENERGY_UNITS_EV = {"eV": 1.0, "hartree": HARTREE_EV}  # eV per stated unit
FORCE_UNITS_EV_PER_A = {"eV/A": 1.0, "hartree/bohr": HARTREE_PER_BOHR_EV_PER_A}
CP2K_FILES = ("positions", "forces", "energies")  # the file lists of a CP2K source, in reading order
_XYZ_SUFFIXES = (".xyz", ".extxyz")
_TAIL_BYTES = 1 << 16
log = logging.getLogger(__name__)


class ImportedDataError(ValueError):
    """Imported trajectory files that cannot be the study's frames (the message names the file and frame)."""


@dataclass(frozen=True)
class TrajectorySource:
    """One imported trajectory as the config describes it.

    ``files``: for format "cp2k", {"positions": [...], "forces": [...], "energies": [...] (may be empty)},
    the files of consecutive segments in order; for format "ase", {"frames": [...]}. ``cell_A`` or
    ``cell_from`` (a CP2K input or restart file) gives the cell, which CP2K's XYZ files lack; an ASE source
    may carry its own. ``frame_interval_fs``: the time between written frames (stated, or read from CP2K's
    comment lines); ``equilibration_ps`` is dropped from the start, then every ``stride``-th frame kept.
    """

    format: str
    files: Mapping[str, tuple[str, ...]]
    equilibration_ps: float
    stride: int = 1
    cell_A: tuple[float, float, float] | None = None
    cell_from: str | None = None
    frame_interval_fs: float | None = None
    energy_unit: str | None = None
    forces_unit: str | None = None
    energy_key: str | None = None
    forces_key: str | None = None

    @classmethod
    def from_config(cls, entry: Mapping) -> TrajectorySource:
        if entry["format"] == "cp2k":
            files = {kind: tuple(entry.get(kind, [])) for kind in CP2K_FILES}
        else:
            files = {"frames": tuple(entry["files"])}
        cell = entry.get("cell_A")
        return cls(
            format=entry["format"],
            files=files,
            equilibration_ps=entry["equilibration_ps"],
            stride=entry.get("stride", 1),
            cell_A=tuple([cell] * 3 if isinstance(cell, int | float) else cell) if cell else None,
            cell_from=entry.get("cell_from"),
            frame_interval_fs=entry.get("frame_interval_fs"),
            energy_unit=entry.get("energy_unit"),
            forces_unit=entry.get("forces_unit"),
            energy_key=entry.get("energy_key"),
            forces_key=entry.get("forces_key"),
        )

    def settings(self) -> dict:
        """What the frames depend on besides the files' bytes (the rule's params; the files are its inputs)."""
        return canonical(
            {
                "format": self.format,
                "equilibration_ps": self.equilibration_ps,
                "stride": self.stride,
                "cell_A": list(self.cell_A) if self.cell_A else None,
                "frame_interval_fs": self.frame_interval_fs,
                "units": [self.energy_unit, self.forces_unit],
                "keys": [self.energy_key, self.forces_key],
            }
        )

    @classmethod
    def of_job(cls, settings: Mapping, files: Mapping[str, Sequence[str]]) -> TrajectorySource:
        """The source an import job reads: its params (:meth:`settings`) and input files (``cell_from``
        among them)."""
        cell, units, keys = settings["cell_A"], settings["units"], settings["keys"]
        cell_from = files.get("cell_from")
        kinds = CP2K_FILES if settings["format"] == "cp2k" else ("frames",)
        return cls(
            format=settings["format"],
            files={kind: tuple(map(str, files.get(kind, ()))) for kind in kinds},
            equilibration_ps=settings["equilibration_ps"],
            stride=settings["stride"],
            cell_A=tuple(cell) if cell else None,
            cell_from=str(cell_from[0]) if cell_from else None,
            frame_interval_fs=settings["frame_interval_fs"],
            energy_unit=units[0],
            forces_unit=units[1],
            energy_key=keys[0],
            forces_key=keys[1],
        )

    def input_files(self) -> dict[str, list[str]]:
        """Every file the import reads, by kind (the import rule's inputs)."""
        files = {kind: list(paths) for kind, paths in self.files.items() if paths}
        return {**files, **({"cell_from": [self.cell_from]} if self.cell_from else {})}

    @property
    def first_file(self) -> str:
        return self.files["positions" if self.format == "cp2k" else "frames"][0]


@dataclass(frozen=True)
class TrajectoryHeader:
    """What planning needs of an imported trajectory, read from the ends of its files: the atoms of its
    first frame, its cell (Å), the time between written frames (fs), and its frames before the equilibration
    cut (``written``: distinct frames), of which the first ``skip`` are equilibration."""

    symbols: tuple[str, ...]
    cell_A: tuple[float, float, float]
    frame_interval_fs: float
    written: int
    skip: int
    stride: int

    @property
    def frames(self) -> int:
        """Frames the import gives (after the equilibration cut and the stride)."""
        return max(0, -(-(self.written - self.skip) // self.stride))

    @property
    def interval_ps(self) -> float:
        """Time between imported frames (stride included)."""
        return fs_to_ps(self.frame_interval_fs * self.stride)

    @property
    def duration_ps(self) -> float:
        """Length of the written trajectory."""
        return fs_to_ps(self.frame_interval_fs * max(0, self.written - 1))


def scan(source: TrajectorySource) -> TrajectoryHeader:
    """The header of an imported trajectory (its files' first frames and last lines; no full read)."""
    first = source.first_file
    for path in (path for paths in source.input_files().values() for path in paths):
        if not Path(path).is_file():
            raise ImportedDataError(f"{path} does not exist")
    if source.format == "cp2k":
        symbols, interval_fs, written = _scan_cp2k(source)
        first_cell = None
    else:
        symbols, interval_fs, written, first_cell = _scan_ase(source)
    cell = source.cell_A or (cell_of_cp2k_file(source.cell_from) if source.cell_from else first_cell)
    if cell is None:
        raise ImportedDataError(f"{first}: no cell in the file; give cell_A or cell_from (a CP2K input or restart)")
    # CP2K prints times to 1e-3 fs: a stated interval within that of the read one is the precise one
    if source.frame_interval_fs and interval_fs and abs(source.frame_interval_fs - interval_fs) > 1e-3:
        raise ImportedDataError(
            f"{first}: frames are {interval_fs:g} fs apart (its 'time =' fields), not the stated "
            f"frame_interval_fs {source.frame_interval_fs:g}"
        )
    interval_fs = source.frame_interval_fs or interval_fs
    if not interval_fs:
        raise ImportedDataError(f"{first}: the time between frames is not in the file; give frame_interval_fs")
    skip = math.ceil(source.equilibration_ps * 1000.0 / interval_fs - 1e-6)
    cell = tuple(float(x) for x in cell)
    return TrajectoryHeader(tuple(symbols), cell, interval_fs, written, skip, source.stride)


def _scan_cp2k(source: TrajectorySource) -> tuple[list[str], float | None, int]:
    """Symbols, the time between frames (fs, from ``time =``; None where not printed) and the frames from the
    first to the last (the import checks that none is missing), from the first two frames and the last.

    Frames are counted by the step counter where it agrees with the times (exact), else by the times: an
    uneven step counter (a published archive's ``i = 1`` at 0 fs, then ``i = 200`` at 100 fs) is logged."""
    files = source.files["positions"]
    blocks = chain.from_iterable(xyz_blocks(f) for f in files)
    first = next(blocks, None)
    if first is None:
        raise ImportedDataError(f"{files[0]}: no frame")
    second = next((b for b in blocks if b.step > first.step), None)  # past a restart's repeat of the first
    if second is None:
        return first.symbols, None, 1
    last_step, last_time = _last_cp2k_frame(files[-1])
    step_gaps = (last_step - first.step) / (second.step - first.step)  # frame gaps by the step counter
    times = (comment_time_fs(first.comment), comment_time_fs(second.comment))
    if None in (*times, last_time):
        return first.symbols, None, math.floor(step_gaps) + 1
    run_fs, gap_fs = last_time - times[0], times[1] - times[0]
    if gap_fs <= 0:
        raise ImportedDataError(
            f"{files[0]}: step {second.step} is at time = {times[1]:.3f} fs, not after step {first.step} "
            f"(time = {times[0]:.3f} fs)"
        )
    gaps = step_gaps
    if not (step_gaps.is_integer() and abs(run_fs / step_gaps - gap_fs) <= TIME_PRINTED_FS):
        gaps = max(1, round(run_fs / gap_fs))  # at least the first two frames' (the import checks the rest)
        log.warning(
            "%s: the step counter is uneven (%s): the times, %.3f fs apart, are used",
            files[0],
            _step_counter(first.step, second.step, last_step, gaps),
            run_fs / gaps,
        )
    # over the whole run: CP2K's 3 printed decimals divided by the frames between
    return first.symbols, run_fs / gaps, int(gaps) + 1


def _step_counter(first: int, second: int, last: int, gaps: int) -> str:
    """How a step counter runs over ``gaps`` + 1 frames, from its first, second and last steps."""
    if gaps > 1 and (last - second) % (gaps - 1) == 0:
        return f"first frame i = {first}, then every {(last - second) // (gaps - 1)} to i = {last}"
    return f"i = {first}, {second}, …, {last} for {gaps + 1} frames"


def _last_cp2k_frame(path: str) -> tuple[int, float | None]:
    """The step and time (fs; None where not printed) of the last frame of a CP2K XYZ file, from its last
    64 kB (a frame's comment line)."""
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        handle.seek(max(0, size - _TAIL_BYTES))
        tail = handle.read().decode(errors="replace")
    comments = [line for line in tail.splitlines() if comment_step(line) is not None]
    if not comments:  # frames of more than 64 kB: read them all
        comments = [b.comment for b in xyz_blocks(path, values=False)]
    if not comments:
        raise ImportedDataError(f"{path}: no frame")
    return comment_step(comments[-1]), comment_time_fs(comments[-1])


def _scan_ase(source: TrajectorySource) -> tuple[list[str], None, int, tuple | None]:
    files = source.files["frames"]
    written = 0
    for path in files:
        written += _count_frames(path)
    first = read(files[0], index=0)
    if first.cell.rank == 3 and not first.cell.orthorhombic:
        raise ImportedDataError(f"{files[0]}: the cell is not orthorhombic; only orthorhombic boxes are supported")
    cell = tuple(first.cell.lengths()) if first.cell.rank == 3 else None
    return first.get_chemical_symbols(), None, written, cell


def _count_frames(path: str) -> int:
    """Frames in an ASE-readable file: an XYZ file's lines over the lines of one frame (every frame holds
    the same atoms; the import checks it), a ``.traj`` file's index, else a full read."""
    if path.endswith(_XYZ_SUFFIXES):
        with open(path, "rb") as handle:
            n_atoms = int(handle.readline())
            handle.seek(0)
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b""))
        return lines // (n_atoms + 2)
    if path.endswith(".traj"):
        with Trajectory(path) as trajectory:
            return len(trajectory)
    return sum(1 for _ in iread(path, index=":"))


def cell_of_cp2k_file(path: str | os.PathLike) -> tuple[float, float, float]:
    """The orthorhombic cell (Å) in a CP2K input (``ABC a b c``) or restart file (``A``/``B``/``C`` vectors)."""
    text = Path(path).read_text()
    section = re.search(r"&CELL\b(.*?)&END\s+CELL", text, re.S | re.I)
    if section is None:
        raise ImportedDataError(f"{path}: no &CELL section")
    abc = re.search(r"^\s*ABC\s+(?:\[angstrom\]\s*)?(\S+)\s+(\S+)\s+(\S+)", section.group(1), re.M | re.I)
    if abc:
        return tuple(float(x) for x in abc.groups())
    vectors = [re.search(rf"^\s*{v}\s+(\S+)\s+(\S+)\s+(\S+)", section.group(1), re.M) for v in "ABC"]
    if None in vectors:
        raise ImportedDataError(f"{path}: its &CELL section has neither ABC nor A, B and C")
    matrix = np.array([[float(x) for x in m.groups()] for m in vectors])
    if not np.allclose(matrix, np.diag(np.diag(matrix))):
        raise ImportedDataError(f"{path}: the cell is not orthorhombic; only orthorhombic boxes are supported")
    return tuple(float(x) for x in np.diag(matrix))


def source_frames(source: TrajectorySource, header: TrajectoryHeader) -> Iterator[Atoms]:
    """The imported frames (equilibration cut, stride), one at a time, in the computed AIMD's format; a
    frame with non-finite data, other atoms than the first frame's or forces of the wrong shape is an error
    naming its file and frame."""
    if source.format == "cp2k":
        try:
            yield from iter_cp2k_frames(
                source.files["positions"],
                source.files["forces"],
                source.files.get("energies") or None,
                header.cell_A,
                skip_frames=header.skip,
                stride=source.stride,
                symbols=header.symbols,
            )
        except FramesError as error:
            raise ImportedDataError(str(error)) from error
        return
    yield from _ase_frames(source, header)


def _ase_frames(source: TrajectorySource, header: TrajectoryHeader) -> Iterator[Atoms]:
    energy_eV, forces_eV_per_A = ENERGY_UNITS_EV[source.energy_unit], FORCE_UNITS_EV_PER_A[source.forces_unit]
    index = 0
    for path in source.files["frames"]:
        for k, atoms in enumerate(iread(path, index=":")):
            index += 1
            if index <= header.skip or (index - header.skip - 1) % source.stride:
                continue
            if tuple(atoms.get_chemical_symbols()) != header.symbols:
                raise ImportedDataError(
                    f"{path}: frame {k} holds {atoms.get_chemical_formula()}, not the atoms of the first frame "
                    f"({Atoms(header.symbols).get_chemical_formula()}, in the same order)"
                )
            if atoms.cell.rank == 3 and not np.allclose(atoms.cell.array, np.diag(header.cell_A), atol=1e-6):
                raise ImportedDataError(
                    f"{path}: frame {k} has the cell {atoms.cell.cellpar().round(4).tolist()}, not the trajectory's "
                    f"{list(header.cell_A)} Å (a changing or skewed cell: NVT boxes only)"
                )
            energy, forces = _energy_and_forces(atoms, source, path, k)
            frame = Atoms(atoms.symbols, positions=atoms.positions, cell=header.cell_A, pbc=True)
            time_fs = (index - 1) * header.frame_interval_fs
            frame.info.update({ENERGY_KEY: energy * energy_eV, "md_step": index - 1, "time_fs": time_fs})
            frame.arrays[FORCES_KEY] = forces * forces_eV_per_A
            yield frame


def _energy_and_forces(atoms: Atoms, source: TrajectorySource, path: str, k: int) -> tuple[float, np.ndarray]:
    """A frame's energy and forces in the source's units: under the named keys, else its calculator's. A named
    key is the frame's own (``info``, ``arrays``) or its calculator's: ASE's extended XYZ reader moves the
    names of calculator results (``energy``, ``free_energy``, ``forces``, …) into a calculator."""
    results = atoms.calc.results if atoms.calc is not None else {}
    try:
        energy = (
            _named(atoms.info, results, source.energy_key, "energy_key")
            if source.energy_key
            else atoms.get_potential_energy()
        )
        forces = (
            _named(atoms.arrays, results, source.forces_key, "forces_key") if source.forces_key else atoms.get_forces()
        )
    except (KeyError, RuntimeError) as error:
        missing = error.args[0] if isinstance(error, KeyError) else f"energy or forces ({error})"
        held = f"info {sorted(atoms.info)}, arrays {sorted(atoms.arrays)}, calculator results {sorted(results)}"
        raise ImportedDataError(f"{path}: frame {k} has no {missing}; it has {held}") from error
    forces = np.asarray(forces, dtype=float)
    if forces.shape != (len(atoms), 3):
        raise ImportedDataError(f"{path}: frame {k}: forces of shape {forces.shape} for {len(atoms)} atoms")
    if not (np.isfinite(energy) and np.isfinite(forces).all()):
        raise ImportedDataError(f"{path}: frame {k}: NaN or infinite energy or forces")
    return float(energy), forces


def _named(own: Mapping, results: Mapping, key: str, config_key: str):
    """The value under ``key`` in a frame's ``info`` or ``arrays`` (``own``), else in its calculator ``results``."""
    for values in (own, results):
        if key in values:
            return values[key]
    raise KeyError(f"{config_key} {key!r}")


class SharedFrames:
    """Fingerprints of a training trajectory's frames, to refuse a test trajectory that shares any: frames are
    indexed by four atoms' positions to 10⁻³ Å and compared by all positions to 10⁻² Å (two digests a frame,
    whatever its size: the same frame printed to 8 or 10 decimals matches, two MD frames never do)."""

    def __init__(self, path: str | os.PathLike):
        self.path = str(path)
        self.index: dict[bytes, list[tuple[int, bytes]]] = {}
        for k, atoms in enumerate(iread(self.path, index=":")):
            self.index.setdefault(self._key(atoms.positions), []).append((k, self._digest(atoms.positions)))

    @staticmethod
    def _key(positions: np.ndarray) -> bytes:
        return np.round(positions[:4], 3).tobytes()

    @staticmethod
    def _digest(positions: np.ndarray) -> bytes:
        return hashlib.sha256((np.round(positions, 2) + 0.0).tobytes()).digest()  # + 0.0: no -0.0

    def find(self, frame: Atoms) -> int | None:
        """The index of the indexed frame with ``frame``'s positions, or None."""
        digest = self._digest(frame.positions)
        for k, indexed in self.index.get(self._key(frame.positions), []):
            if indexed == digest:
                return k
        return None

    def check(self, frame: Atoms, where: str) -> None:
        k = self.find(frame)
        if k is not None:
            raise ImportedDataError(
                f"{where} has the positions of frame {k} of the training frames {self.path}: the test "
                "trajectory shares frames with the training one (leakage)"
            )


def import_trajectory(
    source: TrajectorySource,
    output: str | os.PathLike,
    training_frames: str | os.PathLike | None = None,
    check: FrameCheck | None = None,
) -> TrajectoryHeader:
    """Write an imported trajectory's frames to ``output`` (streamed; nothing is written unless every frame
    passes), refusing frames shared with ``training_frames`` (a test trajectory's training AIMD), frames that
    fail ``check`` (physical plausibility) and a count other than the one the study was planned with; returns
    its header."""
    header = scan(source)
    shared = SharedFrames(training_frames) if training_frames else None

    def checked() -> Iterator[Atoms]:
        for n, frame in enumerate(source_frames(source, header)):
            where = f"{source.first_file}: imported frame {n} (step {frame.info['md_step']})"
            if shared:
                shared.check(frame, where)
            if check:
                check(frame, frame.info[ENERGY_KEY], frame.arrays[FORCES_KEY], where)
            yield frame

    written = write_frames(output, checked())
    if written != header.frames:
        raise ImportedDataError(
            f"{source.first_file}: {written} frames imported, but its files promised {header.frames} "
            f"({header.written} written, {header.skip} of equilibration, stride {header.stride}); a frame of "
            "another size or a broken line?"
        )
    return header
