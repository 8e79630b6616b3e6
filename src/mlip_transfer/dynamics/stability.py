"""Did an MD run stay where its model was trained? Per run: the shortest distance of each element pair and the
largest force in every frame, set against the AIMD of the same concentration (the envelope the model was fitted
in), the temperature's mean and drift, and the share of frames outside the envelope. A run with more than an
allowed share outside, or one that broke a guard, is flagged.

Distances in Å, forces in eV/Å, temperatures in K, times in ps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.data import chemical_symbols

from ..geometry import minimum_image
from ..reference.frames import FORCES_KEY
from . import trajectory

MAX_FRAMES = 1000  # frames examined per run, spread evenly (all pairs of every frame are compared)


def pair_minimum_distances(positions: np.ndarray, symbols: np.ndarray, box_A: np.ndarray) -> dict[str, np.ndarray]:
    """Per frame (positions: frames × atoms × 3), the shortest minimum-image distance of every element pair
    ("H-O", "O-O", ...; intramolecular O–H bonds included: their shortening shows too)."""
    elements = sorted(set(symbols))
    result = {}
    n = positions.shape[1]
    upper = np.triu_indices(n, 1)
    for frame_chunk in np.array_split(np.arange(len(positions)), max(1, len(positions) // 50)):
        delta = minimum_image(positions[frame_chunk, :, None, :] - positions[frame_chunk, None, :, :], box_A)
        distances = np.linalg.norm(delta, axis=-1)[:, upper[0], upper[1]]
        for i, a in enumerate(elements):
            for b in elements[i:]:
                mask = ((symbols[upper[0]] == a) & (symbols[upper[1]] == b)) | (
                    (symbols[upper[0]] == b) & (symbols[upper[1]] == a)
                )
                if mask.any():
                    result.setdefault(f"{a}-{b}", []).append(distances[:, mask].min(axis=1))
    return {pair: np.concatenate(parts) for pair, parts in result.items()}


def largest_forces(forces: np.ndarray) -> np.ndarray:
    """Per frame, the largest force on any atom (eV/Å)."""
    return np.linalg.norm(forces, axis=-1).max(axis=-1)


@dataclass(frozen=True)
class Envelope:
    """What the AIMD of a concentration visited: each pair's shortest distance and the largest force."""

    min_distance_A: dict[str, float]
    max_force_eV_per_A: float

    @classmethod
    def of_aimd(cls, frames: Sequence[Atoms], forces_key: str = FORCES_KEY) -> Envelope:
        positions = np.array([f.positions for f in frames])
        symbols = np.array(frames[0].get_chemical_symbols())
        pairs = pair_minimum_distances(positions, symbols, frames[0].cell.lengths())
        force = largest_forces(np.array([f.arrays[forces_key] for f in frames]))
        return cls({pair: float(d.min()) for pair, d in pairs.items()}, float(force.max()))


def stability_report(
    frames: trajectory.Frames, envelope: Envelope, skip_frames: int, max_outside_fraction: float
) -> dict:
    """One row: per pair the MD's shortest distance beside the AIMD's and the share of frames below it, the
    largest force beside the AIMD's and the share above it, the temperature's mean (K) and drift (K/ps, a
    linear fit), the share of frames outside the envelope on any measure, and whether that exceeds
    ``max_outside_fraction`` (``left_aimd_range``). Frames before ``skip_frames`` (equilibration) are left out."""
    kept = np.arange(skip_frames, len(frames.steps))
    kept = kept[np.linspace(0, len(kept) - 1, min(MAX_FRAMES, len(kept))).round().astype(int)] if len(kept) else kept
    symbols = np.array(chemical_symbols)[frames.species]
    pairs = pair_minimum_distances(frames.positions_A[kept], symbols, frames.box_edges_A)
    outside = np.zeros(len(kept), dtype=bool)
    row: dict[str, object] = {"frames_examined": len(kept)}
    for pair, distances in pairs.items():
        reference = envelope.min_distance_A.get(pair, np.nan)
        below = distances < reference
        outside |= below
        row[f"min_distance_{pair}_A"] = float(distances.min())
        row[f"aimd_min_distance_{pair}_A"] = reference
        row[f"fraction_below_aimd_{pair}"] = float(below.mean())
    force = largest_forces(frames.forces_eV_per_A[kept])
    above = force > envelope.max_force_eV_per_A
    outside |= above
    time_ps, temperature = frames.times_ps[kept], frames.temperature_K[kept]
    row.update(
        {
            "max_force_eV_per_A": float(np.nanmax(force)),
            "aimd_max_force_eV_per_A": envelope.max_force_eV_per_A,
            "fraction_above_aimd_force": float(above.mean()),
            "temperature_mean_K": float(temperature.mean()),
            "temperature_drift_K_per_ps": float(np.polyfit(time_ps, temperature, 1)[0]) if len(kept) > 1 else np.nan,
            "fraction_outside_aimd": float(outside.mean()),
        }
    )
    row["left_aimd_range"] = bool(row["fraction_outside_aimd"] > max_outside_fraction)
    return row
