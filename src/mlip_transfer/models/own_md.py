"""Errors of a model on its own MD: the force RMSE of every model on frames that an MD run visited (re-labelled
with the AIMD's method, :mod:`mlip_transfer.dynamics.relabel`), and for each run the generating model's error
there beside its error on the AIMD test set of the same concentration, with a verdict.

A model that is accurate on AIMD frames can drift, in its own dynamics, into configurations no AIMD frame
covers; its error on its own frames says whether its MD can be trusted. Uncertainties as for the matrix
(:class:`~mlip_transfer.models.transfer.ModelErrors`: block bootstrap of the frames, seeds of the models).
Force errors in meV/Å.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .. import names
from .transfer import ModelErrors


def own_md_errors(
    frame_errors: Sequence[pd.DataFrame],
    models: Sequence[str],
    runs: Sequence[tuple[str, str]],
    matrix: pd.DataFrame,
    within_percent: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(every model on every run's frames, one row per run).

    ``frame_errors``: per-frame errors of ``models`` on the re-labelled frames, ``test_concentration`` naming
    each set (:func:`~mlip_transfer.names.md_reference_set`); ``runs``: (generating model, "<label>.r<k>");
    ``matrix``: the transferability table (AIMD test sets). A run passes when its model's force RMSE on its own
    frames is at most ``within_percent`` % above its RMSE on the AIMD test set of the same concentration."""
    sets = [names.md_reference_set(model, system) for model, system in runs]
    entries = ModelErrors.from_frame_errors(frame_errors, models, sets).entries()
    on_aimd = matrix.set_index(["model", "test_concentration"])
    rows = []
    for (model, system), reference in zip(runs, sets, strict=True):
        label = names.replica_of(system)[0]
        own = entries.set_index(["model", "test_concentration"]).loc[(model, reference)]
        aimd = on_aimd.loc[(model, label)]
        ratio = own["force_rmse_meV_per_A"] / aimd["force_rmse_meV_per_A"]
        rows.append(
            {
                "model": model,
                "md_run": system,
                "concentration": label,
                "own_md_force_rmse_meV_per_A": own["force_rmse_meV_per_A"],
                "own_md_force_rmse_se_meV_per_A": own["force_rmse_se_meV_per_A"],
                "own_md_independent_blocks": own["independent_blocks"],
                "own_md_uncertainty_reliable": own["uncertainty_reliable"],
                "aimd_test_force_rmse_meV_per_A": aimd["force_rmse_meV_per_A"],
                "aimd_test_force_rmse_se_meV_per_A": aimd["force_rmse_se_meV_per_A"],
                "own_md_over_aimd_test": ratio,
                f"own_md_within_{within_percent:g}_percent": bool(ratio <= 1.0 + within_percent / 100.0),
            }
        )
    return entries, pd.DataFrame(rows)
