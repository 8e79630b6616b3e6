"""Errors of a model on reference frames: predictions, per-frame errors, metrics, seed means, learning
curves and committee disagreement. The matrix and its views are :mod:`.transfer`'s.

Force errors are per Cartesian component in meV/Å, energy errors per atom in meV/atom; molarities in mol/L.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from ase import Atoms

from .. import names
from ..files import write_arrays
from ..reference.frames import ENERGY_KEY, FORCES_KEY
from ..units import MEV_PER_EV
from . import uncertainty

# The metrics drawn as matrices (energies with each (model, test set)'s mean offset removed: see error_metrics)
METRICS = {
    "force_rmse_meV_per_A": "Force RMSE (meV/Å)",
    "force_mae_meV_per_A": "Force MAE (meV/Å)",
    "energy_rmse_offset_free_meV_per_atom": "Energy RMSE, mean offset removed (meV/atom)",
    "energy_mae_offset_free_meV_per_atom": "Energy MAE, mean offset removed (meV/atom)",
}


@dataclass
class Predictions:
    """Reference and predicted energies (eV per frame) and forces (eV/Å, all atoms stacked) of the frames of
    one test set, in time order (``md_step``)."""

    md_step: np.ndarray
    n_atoms: np.ndarray
    energy_ref_eV: np.ndarray
    energy_pred_eV: np.ndarray
    forces_ref_eV_per_A: np.ndarray
    forces_pred_eV_per_A: np.ndarray

    def save(self, path: str | os.PathLike) -> None:
        write_arrays(path, self.__dict__)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Predictions:
        with np.load(path) as data:
            return cls(**{k: data[k] for k in data.files})


def model_e0s_eV(calculator) -> dict[int, float]:
    """The isolated-atom energies (eV) a MACE calculator's model adds per atom, for the head it uses."""
    model = calculator.models[0]
    head = calculator.available_heads.index(calculator.head)
    energies = (
        model.atomic_energies_fn.atomic_energies.detach().cpu().numpy().reshape(len(calculator.available_heads), -1)
    )
    return {int(z): float(e) for z, e in zip(model.atomic_numbers.tolist(), energies[head], strict=True)}


def predict(calculator, frames: Sequence[Atoms], reference_e0s_eV: Mapping[int, float] | None = None) -> Predictions:
    """Run the calculator on every reference frame.

    With ``reference_e0s_eV`` (the reference method's isolated-atom energies) the predicted energies are
    re-referenced to them: E − Σ_i E0_model(Z_i) + Σ_i E0_ref(Z_i). A model trained elsewhere (a foundation
    model) carries its own training code's E0s, ~10⁵ meV/atom off CP2K's totals; fine-tunes given the CP2K
    E0s are unchanged by it."""
    shift = {}
    if reference_e0s_eV is not None:
        own = model_e0s_eV(calculator)
        shift = {z: reference_e0s_eV[z] - own[z] for z in own if z in reference_e0s_eV}
    energies, forces = [], []
    for frame in frames:
        atoms = frame.copy()
        atoms.calc = calculator
        energies.append(atoms.get_potential_energy() + sum(shift.get(int(z), 0.0) for z in atoms.numbers))
        forces.append(atoms.get_forces())
    return Predictions(
        md_step=np.array([f.info.get("md_step", i) for i, f in enumerate(frames)]),
        n_atoms=np.array([len(f) for f in frames]),
        energy_ref_eV=np.array([f.info[ENERGY_KEY] for f in frames]),
        energy_pred_eV=np.array(energies),
        forces_ref_eV_per_A=np.concatenate([f.arrays[FORCES_KEY] for f in frames]),
        forces_pred_eV_per_A=np.concatenate(forces),
    )


def frame_errors(p: Predictions) -> pd.DataFrame:
    """Per frame, in time order: the sum of squared force-component errors (meV²/Å²) over its
    ``force_components`` and the energy error (meV/atom). What every RMSE and its block bootstrap is built
    from, and what pairs two models on the same frames (``md_step``)."""
    squared = ((p.forces_pred_eV_per_A - p.forces_ref_eV_per_A) * MEV_PER_EV) ** 2
    per_frame = np.add.reduceat(squared.sum(axis=1), np.concatenate([[0], np.cumsum(p.n_atoms)[:-1]]))
    return pd.DataFrame(
        {
            "md_step": p.md_step,
            "force_components": 3 * p.n_atoms,
            "force_squared_error_meV2_per_A2": per_frame,
            "energy_error_meV_per_atom": (p.energy_pred_eV - p.energy_ref_eV) / p.n_atoms * MEV_PER_EV,
        }
    )


def force_rmse(frames: pd.DataFrame, index: np.ndarray | None = None) -> np.ndarray | float:
    """Force RMSE (meV/Å) of :func:`frame_errors`, or of each resample of its frames (``index``: resamples ×
    frames)."""
    squared = frames["force_squared_error_meV2_per_A2"].to_numpy()
    components = frames["force_components"].to_numpy()
    if index is None:
        return float(np.sqrt(squared.sum() / components.sum()))
    return np.sqrt(squared[index].sum(axis=-1) / components[index].sum(axis=-1))


def error_metrics(p: Predictions, n_resamples: int = 1000, seed: int = 0) -> dict[str, float]:
    """Force RMSE/MAE (meV/Å, per component) and energy errors (meV/atom) of one model on one test set.

    The force RMSE's standard error comes from a block bootstrap of the frames (:mod:`.uncertainty`), with
    the frames' correlation time and block length beside it. Energies: raw RMSE/MAE, the mean offset, and
    RMSE/MAE with that offset removed (a model fine-tuned on one composition cannot know the energy offset
    of another; every frame of a test set has the same composition, so the offset-free error is the error
    of relative energies)."""
    frames = frame_errors(p)
    correlation = uncertainty.CorrelationTime.of([frames["force_squared_error_meV2_per_A2"]])
    resampled = force_rmse(frames, correlation.resample(n_resamples, np.random.default_rng(seed)))
    se = np.sqrt(correlation.variance_factor) * resampled.std(ddof=1)  # NaN: too few frames for one block
    df = (p.forces_pred_eV_per_A - p.forces_ref_eV_per_A).ravel() * MEV_PER_EV
    de = frames["energy_error_meV_per_atom"].to_numpy()
    offset = float(np.mean(de))
    return {
        "n_frames": len(frames),
        "force_rmse_meV_per_A": force_rmse(frames),
        "force_rmse_se_meV_per_A": float(se),
        "correlation_time_frames": correlation.tau_frames,
        "block_length_frames": correlation.block_length,
        "force_mae_meV_per_A": float(np.mean(np.abs(df))),
        "energy_rmse_meV_per_atom": float(np.sqrt(np.mean(de**2))),
        "energy_mae_meV_per_atom": float(np.mean(np.abs(de))),
        "energy_offset_meV_per_atom": offset,
        "energy_rmse_offset_free_meV_per_atom": float(np.sqrt(np.mean((de - offset) ** 2))),
        "energy_mae_offset_free_meV_per_atom": float(np.mean(np.abs(de - offset))),
    }


def seed_means(errors: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, test concentration) from one row per seed: committee members ("<model>.seed<n>")
    fold into their model and every metric becomes its mean over seeds, with ``n_seeds``. (The force RMSE's
    uncertainty over seeds and frames is :class:`mlip_transfer.models.transfer.ModelErrors`'.)"""
    per_seed = errors.assign(model=errors["model"].map(names.without_seed))
    grouped = per_seed.groupby(["model", "test_concentration"], sort=False)
    table = grouped.mean(numeric_only=True)
    table["n_seeds"] = grouped.size()
    return table.reset_index()


def learning_curves(errors: pd.DataFrame, training_frames: Mapping[str, int]) -> pd.DataFrame:
    """Force RMSE (meV/Å) against the number of training frames, per fine-tuned model and test set.

    ``errors``: rows of evaluated models named "ft_<label>.frames<n>" (a frame budget) or "ft_<label>" (all
    of its training frames); ``training_frames``: each such name's number of training frames."""
    rows = errors[errors["model"].isin(training_frames)].copy()
    rows["training_frames"] = rows["model"].map(training_frames)
    rows["model"] = rows["model"].map(names.model_of)
    columns = ["model", "test_concentration", "training_frames", "force_rmse_meV_per_A", "force_rmse_se_meV_per_A"]
    return rows[columns].sort_values(columns[:3], ignore_index=True)


def committee_force_sd(members: Sequence[Predictions]) -> float:
    """How much a committee disagrees on one test set (meV/Å): the RMS over force components of the standard
    deviation of the members' predicted forces. Needs no reference labels."""
    forces = np.stack([p.forces_pred_eV_per_A for p in members])
    return float(MEV_PER_EV * np.sqrt(np.mean(forces.std(axis=0, ddof=1) ** 2)))
