"""Which frames a repair fine-tune gets: n frames of a pool picked evenly in time, at random, or where the
base's committee disagrees most, beside a replay of the base's own training frames; and the check that no
picked frame is a test frame.

Committee disagreement is DP-GEN's ``max_devi_f``: for each atom the standard deviation of the members'
force vectors (the norm of the per-component standard deviations over members, population form), and its
largest value over the frame's atoms, in meV/Å (deepmd-kit ``calc_model_devi_f``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd
from ase import Atoms

from ..reference.imported import SharedFrames
from ..units import FS_PER_PS, MEV_PER_EV
from .catalogue import FrameSelection

POOL_COLUMNS = ["frame", "md_step", "time_ps", "committee_disagreement_meV_per_A"]


class LeakageError(ValueError):
    """A frame picked for training is a test frame."""


def max_force_deviation_meV_per_A(member_forces_eV_per_A: np.ndarray) -> float:
    """``max_devi_f`` of one frame from its members' forces (members × atoms × 3, eV/Å)."""
    per_atom = np.linalg.norm(member_forces_eV_per_A.std(axis=0), axis=-1)
    return float(per_atom.max() * MEV_PER_EV)


def committee_disagreement_meV_per_A(calculators: Sequence, frames: Sequence[Atoms]) -> np.ndarray:
    """``max_devi_f`` (meV/Å) of every frame among the committee's members (MACE calculators)."""
    values = []
    for frame in frames:
        forces = []
        for calculator in calculators:
            atoms = frame.copy()
            atoms.calc = calculator
            forces.append(atoms.get_forces())
        values.append(max_force_deviation_meV_per_A(np.array(forces)))
    return np.array(values)


def pool_table(frames: Sequence[Atoms], disagreement_meV_per_A: np.ndarray | None = None) -> pd.DataFrame:
    """One row per pool frame: its index in the pool, MD step, time (ps) and committee disagreement (NaN
    where the base has no committee)."""
    disagreement = np.full(len(frames), np.nan) if disagreement_meV_per_A is None else disagreement_meV_per_A
    return pd.DataFrame(
        {
            "frame": np.arange(len(frames)),
            "md_step": [f.info.get("md_step", k) for k, f in enumerate(frames)],
            "time_ps": [f.info.get("time_fs", np.nan) / FS_PER_PS for f in frames],
            "committee_disagreement_meV_per_A": disagreement,
        },
        columns=POOL_COLUMNS,
    )


def load_pool(frames: Sequence[Atoms], disagreement: str | os.PathLike | None) -> pd.DataFrame:
    """The pool table of ``frames``: the committee's (``disagreement``, :func:`pool_table` written by its job),
    refused unless it describes these frames, or one without disagreement."""
    if disagreement is None:
        return pool_table(frames)
    table = pd.read_csv(disagreement)
    steps = [f.info.get("md_step", k) for k, f in enumerate(frames)]
    if table["md_step"].tolist() != steps:
        raise ValueError(f"{disagreement} describes other frames than the pool's {len(frames)} (MD steps differ)")
    return table


def evenly_spaced(pool_size: int, n: int) -> np.ndarray:
    """n indices spread evenly over a pool in time order, first and last included."""
    _check_budget(pool_size, n)
    return np.linspace(0, pool_size - 1, n).round().astype(int)


def pick(pool: pd.DataFrame, selection: str, n: int, seed: int) -> np.ndarray:
    """The pool indices (in time order) of n frames: ``even`` (evenly spaced), ``random`` (the first n of
    one seeded permutation) or ``committee`` (the n of largest disagreement; ties to the earlier frame)."""
    size = len(pool)
    if selection == "even":
        return evenly_spaced(size, n)
    _check_budget(size, n)
    if selection == "random":
        return np.sort(np.random.default_rng(seed).permutation(size)[:n])
    if selection == "committee":
        disagreement = pool["committee_disagreement_meV_per_A"].to_numpy()
        if np.isnan(disagreement).any():
            raise ValueError("committee selection needs the committee's disagreement on every pool frame")
        return np.sort(np.argsort(-disagreement, kind="stable")[:n])
    raise ValueError(f"unknown selection {selection!r}: even, random or committee")


def replay(frames: Sequence[Atoms], n: int) -> list[Atoms]:
    """n of the base's own training frames, evenly spaced (all of them where it has fewer)."""
    return [frames[k] for k in evenly_spaced(len(frames), min(n, len(frames)))] if n else []


def select(
    frames: Sequence[Atoms], pool: pd.DataFrame, settings: FrameSelection, test_files: Sequence[str], pool_name: str
) -> tuple[list[Atoms], pd.DataFrame]:
    """The frames a repair is given from a pool (``pool``: :func:`pool_table` of ``frames``) and their rows,
    refused if any is a frame of ``test_files``."""
    picked = pick(pool, settings.selection, settings.frames, settings.seed)
    refuse_test_frames(frames, picked, test_files, pool_name)
    return [frames[k] for k in picked], pool.iloc[picked].reset_index(drop=True)


def refuse_test_frames(
    frames: Sequence[Atoms], picked: Sequence[int], test_files: Sequence[str | os.PathLike], pool: str
) -> None:
    """Raise :class:`LeakageError` if a picked frame (an index into ``frames``) has the positions of a frame
    of any test file."""
    for path in test_files:
        shared = SharedFrames(path)
        for k in picked:
            found = shared.find(frames[k])
            if found is not None:
                raise LeakageError(
                    f"frame {k} of {pool} has the positions of frame {found} of the test frames {path}: "
                    "a repair never trains on a test frame"
                )


def _check_budget(pool_size: int, n: int) -> None:
    if not 0 < n <= pool_size:
        raise ValueError(f"{n} frames asked of a pool of {pool_size}")
