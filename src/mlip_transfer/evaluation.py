"""Errors of a model on reference frames, the transferability matrix, and the views that answer the study's
question: how much worse a model gets away from its training concentration, and which one to train on.

Force errors are per Cartesian component in meV/Å, energy errors per atom in meV/atom; molarities in mol/L.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from ase import Atoms

from .frames import ENERGY_KEY, FORCES_KEY
from .study import FRAMES_SEPARATOR, fine_tune_name, without_seed
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


def error_metrics(p: Predictions, n_resamples: int = 200, seed: int = 0) -> dict[str, float]:
    """Force RMSE/MAE (meV/Å, per component) and energy RMSE/MAE (meV/atom), with the standard error of the
    force RMSE from resampling the test frames (frames of one AIMD are correlated in time: a lower bound)."""
    df = (p.forces_pred_eV_per_A - p.forces_ref_eV_per_A).ravel() * 1000.0
    de = (p.energy_pred_eV - p.energy_ref_eV) / p.n_atoms * 1000.0
    squared_per_frame = np.array([np.sum(d**2) for d in np.split(df, 3 * np.cumsum(p.n_atoms)[:-1])])
    components = 3 * p.n_atoms
    frames = np.random.default_rng(seed).integers(0, len(p.n_atoms), size=(n_resamples, len(p.n_atoms)))
    resampled = np.sqrt(squared_per_frame[frames].sum(axis=1) / components[frames].sum(axis=1))
    return {
        "n_frames": len(p.n_atoms),
        "force_rmse_meV_per_A": float(np.sqrt(np.mean(df**2))),
        "force_rmse_se_meV_per_A": float(resampled.std(ddof=1)) if len(p.n_atoms) > 1 else np.nan,
        "force_mae_meV_per_A": float(np.mean(np.abs(df))),
        "energy_rmse_meV_per_atom": float(np.sqrt(np.mean(de**2))),
        "energy_mae_meV_per_atom": float(np.mean(np.abs(de))),
    }


def seed_statistics(errors: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, test concentration) from one row per seed: committee members ("<model>.seed<n>")
    fold into their model; each metric becomes its mean over seeds, with ``n_seeds``, the force RMSE's
    standard deviation over seeds (``force_rmse_sd_meV_per_A``, NaN for one seed) and its uncertainty
    ``force_rmse_se_meV_per_A`` = sqrt(sd²/n + se²), se the seeds' mean frame-bootstrap error (all seeds share
    the test frames, so that part does not average out)."""
    per_seed = errors.assign(model=errors["model"].map(without_seed))
    grouped = per_seed.groupby(["model", "test_concentration"], sort=False)
    table = grouped.mean(numeric_only=True)
    n = grouped.size()
    sd = grouped["force_rmse_meV_per_A"].std(ddof=1)
    frames_se_squared = grouped["force_rmse_se_meV_per_A"].apply(lambda se: np.mean(se**2))
    table["n_seeds"] = n
    table["force_rmse_sd_meV_per_A"] = sd
    table["force_rmse_se_meV_per_A"] = np.sqrt(sd.fillna(0.0) ** 2 / n + frames_se_squared)
    return table.reset_index()


def learning_curves(errors: pd.DataFrame, training_frames: Mapping[str, int]) -> pd.DataFrame:
    """Force RMSE (meV/Å) against the number of training frames, per fine-tuned model and test set.

    ``errors``: rows of evaluated models named "ft_<label>.frames<n>" (a frame budget) or "ft_<label>" (all
    of its training frames); ``training_frames``: each such name's number of training frames."""
    rows = errors[errors["model"].isin(training_frames)].copy()
    rows["training_frames"] = rows["model"].map(training_frames)
    rows["model"] = rows["model"].str.partition(FRAMES_SEPARATOR)[0]
    columns = ["model", "test_concentration", "training_frames", "force_rmse_meV_per_A", "force_rmse_se_meV_per_A"]
    return rows[columns].sort_values(columns[:3], ignore_index=True)


def committee_force_sd(members: Sequence[Predictions]) -> float:
    """How much a committee disagrees on one test set (meV/Å): the RMS over force components of the standard
    deviation of the members' predicted forces. Needs no reference labels."""
    forces = np.stack([p.forces_pred_eV_per_A for p in members])
    return float(1000.0 * np.sqrt(np.mean(forces.std(axis=0, ddof=1) ** 2)))


def transferability_matrix(
    errors: pd.DataFrame, metric: str, model_order: Sequence[str], test_order: Sequence[str]
) -> pd.DataFrame:
    """Models as rows, test concentrations as columns, ``metric`` as values."""
    table = errors.pivot(index="model", columns="test_concentration", values=metric)
    return table.reindex(index=list(model_order), columns=list(test_order))


def home_models(concentrations: Sequence[str]) -> dict[str, str]:
    """The model fine-tuned on each test concentration alone: its 'home' model."""
    return {label: fine_tune_name(label) for label in concentrations}


def relative_to_home(matrix: pd.DataFrame) -> pd.DataFrame:
    """Each test set's column divided by its home model's error: 1 on the diagonal, and how many times worse
    than the specialist every other model is on that test set (the test set's own difficulty divided out)."""
    home = home_models(matrix.columns)
    return matrix / pd.Series({c: matrix.loc[home[c], c] for c in matrix.columns})


def error_versus_distance(
    errors: pd.DataFrame, training: Mapping[str, Sequence[str]], molarities: Mapping[str, float]
) -> pd.DataFrame:
    """Force RMSE of every single-concentration model against |Δc|, the molarity distance (mol/L) between
    its training and test concentrations."""
    single = {model: labels[0] for model, labels in training.items() if len(labels) == 1}
    rows = errors[errors["model"].isin(single)].copy()
    rows["train_molarity_mol_per_L"] = rows["model"].map(lambda m: molarities[single[m]])
    rows["test_molarity_mol_per_L"] = rows["test_concentration"].map(molarities)
    rows["distance_mol_per_L"] = (rows["test_molarity_mol_per_L"] - rows["train_molarity_mol_per_L"]).abs()
    columns = ["model", "test_concentration", "train_molarity_mol_per_L", "test_molarity_mol_per_L"]
    return rows[[*columns, "distance_mol_per_L", "force_rmse_meV_per_A", "force_rmse_se_meV_per_A"]]


def transfer_summary(
    errors: pd.DataFrame, training: Mapping[str, Sequence[str]], model_order: Sequence[str]
) -> pd.DataFrame:
    """Per model: force RMSE at home (mean over its training concentrations), mean and worst off home, and
    over all test sets, each with a standard error; single-concentration models ranked by mean off-home error.

    ``training`` maps each fine-tuned model to its training concentrations (the foundation model has none:
    every test set is off home for it).
    """
    rows = []
    for model in model_order:
        own = errors[errors["model"] == model]
        home_labels = set(training.get(model, []))
        home, away = own[own["test_concentration"].isin(home_labels)], own[~own["test_concentration"].isin(home_labels)]
        worst = away.loc[away["force_rmse_meV_per_A"].idxmax()] if len(away) else None
        rows.append(
            {
                "model": model,
                "kind": "foundation" if not home_labels else "single" if len(home_labels) == 1 else "multi",
                "training_concentrations": " ".join(training.get(model, [])),
                **mean_with_error("home", home),
                **mean_with_error("off_home", away),
                "worst_off_home_meV_per_A": worst["force_rmse_meV_per_A"] if worst is not None else np.nan,
                "worst_off_home_se_meV_per_A": worst["force_rmse_se_meV_per_A"] if worst is not None else np.nan,
                "worst_off_home_test": worst["test_concentration"] if worst is not None else "",
                **mean_with_error("all", own),
            }
        )
    summary = pd.DataFrame(rows)
    single = summary["kind"] == "single"
    summary.loc[single, "rank_off_home"] = summary.loc[single, "mean_off_home_meV_per_A"].rank(method="min")
    return summary


def mean_with_error(name: str, rows: pd.DataFrame) -> dict[str, float]:
    """Mean force RMSE of independent test sets and its standard error (meV/Å), as
    ``mean_<name>_meV_per_A`` and ``mean_<name>_se_meV_per_A``."""
    if rows.empty:
        return {f"mean_{name}_meV_per_A": np.nan, f"mean_{name}_se_meV_per_A": np.nan}
    return {
        f"mean_{name}_meV_per_A": float(rows["force_rmse_meV_per_A"].mean()),
        f"mean_{name}_se_meV_per_A": float(np.sqrt((rows["force_rmse_se_meV_per_A"] ** 2).sum()) / len(rows)),
    }


def distinguishable(a: float, se_a: float, b: float, se_b: float, z: float = 2.0) -> bool:
    """Whether two errors differ by more than ``z`` combined standard errors."""
    return bool(abs(a - b) > z * np.hypot(se_a, se_b))


def recommendation(summary: pd.DataFrame, molarities: Mapping[str, float]) -> dict[str, object]:
    """The single training concentration with the lowest mean off-home force error (and the one with the
    lowest worst case), whether the runner-up is distinguishable from it, and whether a multi-concentration
    model beats it on the mean over all test sets."""
    single = summary[summary["kind"] == "single"].sort_values("mean_off_home_meV_per_A")
    if len(single) < 2:
        return {"statement": "fewer than two single-concentration models: nothing to choose between"}
    best, runner_up = single.iloc[0], single.iloc[1]
    safest = single.sort_values("worst_off_home_meV_per_A").iloc[0]
    clear = distinguishable(
        best["mean_off_home_meV_per_A"], best["mean_off_home_se_meV_per_A"],
        runner_up["mean_off_home_meV_per_A"], runner_up["mean_off_home_se_meV_per_A"],
    )  # fmt: skip
    label = best["training_concentrations"]
    result = {
        "best_single_model": best["model"],
        "best_single_molarity_mol_per_L": molarities[label],
        "mean_off_home_meV_per_A": best["mean_off_home_meV_per_A"],
        "mean_off_home_se_meV_per_A": best["mean_off_home_se_meV_per_A"],
        "runner_up_model": runner_up["model"],
        "runner_up_mean_off_home_meV_per_A": runner_up["mean_off_home_meV_per_A"],
        "distinguishable_from_runner_up": clear,
        "lowest_worst_case_model": safest["model"],
        "lowest_worst_case_meV_per_A": safest["worst_off_home_meV_per_A"],
    }
    text = (
        f"Train on {molarities[label]:.2f} mol/L ({best['model']}): mean off-home force RMSE "
        f"{best['mean_off_home_meV_per_A']:.1f} ± {best['mean_off_home_se_meV_per_A']:.1f} meV/Å; "
        + (
            f"clearly below the runner-up {runner_up['model']} ({runner_up['mean_off_home_meV_per_A']:.1f} meV/Å)."
            if clear
            else f"not distinguishable from {runner_up['model']} ({runner_up['mean_off_home_meV_per_A']:.1f} ± "
            f"{runner_up['mean_off_home_se_meV_per_A']:.1f} meV/Å)."
        )
        + f" Lowest worst case: {safest['model']} ({safest['worst_off_home_meV_per_A']:.1f} meV/Å)."
    )
    multi = summary[summary["kind"] == "multi"]
    if len(multi):
        rival = multi.sort_values("mean_all_meV_per_A").iloc[0]
        beats = rival["mean_all_meV_per_A"] < best["mean_all_meV_per_A"]
        clear_multi = distinguishable(
            rival["mean_all_meV_per_A"], rival["mean_all_se_meV_per_A"],
            best["mean_all_meV_per_A"], best["mean_all_se_meV_per_A"],
        )  # fmt: skip
        result.update(
            best_multi_model=rival["model"],
            best_multi_mean_all_meV_per_A=rival["mean_all_meV_per_A"],
            best_single_mean_all_meV_per_A=best["mean_all_meV_per_A"],
            multi_beats_best_single=bool(beats and clear_multi),
        )
        verdict = ("beats it" if beats else "does not beat it") + ("" if clear_multi else " (not distinguishable)")
        text += (
            f" Over all test sets the best multi-concentration model {rival['model']} "
            f"({rival['mean_all_meV_per_A']:.1f} ± {rival['mean_all_se_meV_per_A']:.1f} meV/Å) {verdict} "
            f"({best['model']}: {best['mean_all_meV_per_A']:.1f} ± {best['mean_all_se_meV_per_A']:.1f} meV/Å)."
        )
    result["statement"] = text
    return result
