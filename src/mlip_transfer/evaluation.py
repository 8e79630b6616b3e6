"""Errors of a model on reference frames, and the transferability matrix.

Force errors are per Cartesian component in meV/Å, energy errors per atom in meV/atom.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from ase import Atoms

from .frames import ENERGY_KEY, FORCES_KEY
from .training import resolve_device

METRICS = {
    "force_rmse_meV_per_A": "Force RMSE (meV/Å)",
    "force_mae_meV_per_A": "Force MAE (meV/Å)",
    "energy_rmse_meV_per_atom": "Energy RMSE (meV/atom)",
    "energy_mae_meV_per_atom": "Energy MAE (meV/atom)",
}


@dataclass
class Predictions:
    """Reference and predicted energies (eV per frame) and forces (eV/Å, all atoms stacked)."""

    n_atoms: np.ndarray
    energy_ref_eV: np.ndarray
    energy_pred_eV: np.ndarray
    forces_ref_eV_per_A: np.ndarray
    forces_pred_eV_per_A: np.ndarray

    def save(self, path: str | os.PathLike) -> None:
        np.savez_compressed(path, **self.__dict__)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Predictions:
        with np.load(path) as data:
            return cls(**{k: data[k] for k in data.files})


def load_mace_calculator(
    model_path: str | os.PathLike, device: str = "auto", default_dtype: str = "float64", enable_cueq: bool = False
):
    """ASE calculator for a MACE model file on the requested device (``auto``: CUDA when present),
    optionally with cuEquivariance kernels."""
    from mace.calculators import MACECalculator

    return MACECalculator(
        model_paths=str(model_path),
        device=resolve_device(device),
        default_dtype=default_dtype,
        enable_cueq=enable_cueq,
    )


def predict(calculator, frames: Sequence[Atoms]) -> Predictions:
    """Run the calculator on every reference frame."""
    energies, forces = [], []
    for frame in frames:
        atoms = frame.copy()
        atoms.calc = calculator
        energies.append(atoms.get_potential_energy())
        forces.append(atoms.get_forces())
    return Predictions(
        n_atoms=np.array([len(f) for f in frames]),
        energy_ref_eV=np.array([f.info[ENERGY_KEY] for f in frames]),
        energy_pred_eV=np.array(energies),
        forces_ref_eV_per_A=np.concatenate([f.arrays[FORCES_KEY] for f in frames]),
        forces_pred_eV_per_A=np.concatenate(forces),
    )


def error_metrics(p: Predictions) -> dict[str, float]:
    """Force RMSE/MAE (meV/Å, per component) and energy RMSE/MAE (meV/atom)."""
    df = (p.forces_pred_eV_per_A - p.forces_ref_eV_per_A).ravel() * 1000.0
    de = (p.energy_pred_eV - p.energy_ref_eV) / p.n_atoms * 1000.0
    return {
        "n_frames": len(p.n_atoms),
        "force_rmse_meV_per_A": float(np.sqrt(np.mean(df**2))),
        "force_mae_meV_per_A": float(np.mean(np.abs(df))),
        "energy_rmse_meV_per_atom": float(np.sqrt(np.mean(de**2))),
        "energy_mae_meV_per_atom": float(np.mean(np.abs(de))),
    }


def transferability_matrix(
    errors: pd.DataFrame, metric: str, model_order: Sequence[str], test_order: Sequence[str]
) -> pd.DataFrame:
    """Models as rows, test concentrations as columns, ``metric`` as values."""
    table = errors.pivot(index="model", columns="test_concentration", values=metric)
    return table.reindex(index=list(model_order), columns=list(test_order))
