"""Means over independent MD replicas with their standard error, on random walks of known D."""

import numpy as np
import pandas as pd

from mlip_transfer.analysis.replicas import replica_means
from mlip_transfer.analysis.transport import block_diffusion

DT_PS, STEP_A = 0.01, 0.05
D_TRUE = STEP_A**2 / (2 * DT_PS) * 10.0  # 10⁻⁹ m²/s


def test_replicas_of_a_random_walk_cover_the_known_d_at_the_stated_rate():
    """Five replicas of a two-particle random walk (a dilute box's ions), 300 times: the 95 % interval of the
    replica mean covers the true D in 95 % ± 3 % of the trials."""
    rng = np.random.default_rng(7)
    rows = []
    for trial in range(300):
        for replica in range(5):
            walk = np.cumsum(rng.normal(0.0, STEP_A, (400, 2, 3)), axis=0)
            d, block_error = block_diffusion(walk, DT_PS, (0.2, 1.0), 4)
            rows.append({"trial": trial, "replica": replica, "D": d, "D_error": block_error, "diffusive": True})
    table = replica_means(pd.DataFrame(rows).drop(columns="replica"), ["trial"], ["D"], {"D": "D_error"})
    covered = (table["D_ci_low"] <= D_TRUE) & (D_TRUE <= table["D_ci_high"])
    assert 0.92 <= covered.mean() <= 0.98
    assert (table["n_replicas"] == 5).all() and (table["D_error"] == table["D_replica_se"]).all()
    assert table["diffusive"].all() and table["D_error_within_replica"].gt(0).all()


def test_one_replica_keeps_its_block_error_and_text_flags_are_joined():
    runs = pd.DataFrame(
        {"model": ["m", "m", "n"], "D": [1.0, 3.0, 2.0], "D_error": [0.1, 0.3, 0.2],
         "md_stopped_early": ["", "step 5: hot", ""], "diffusive": [True, False, True]}
    )  # fmt: skip
    table = replica_means(runs, ["model"], ["D"], {"D": "D_error"}).set_index("model")
    assert table.loc["m", "D"] == 2.0 and table.loc["m", "D_error"] == np.std([1.0, 3.0], ddof=1) / np.sqrt(2)
    assert table.loc["n", "D_error"] == 0.2 and np.isnan(table.loc["n", "D_replica_se"])
    assert table.loc["m", "md_stopped_early"] == "step 5: hot" and not table.loc["m", "diffusive"]


def test_replica_intervals_of_a_positive_quantity_stay_positive():
    runs = pd.DataFrame({"model": ["m", "m"], "replica": [0, 1], "D": [0.05, 2.0]})  # two very different replicas
    row = replica_means(runs, ["model"], ["D"]).iloc[0]
    assert row["D"] - 12.7 * row["D_replica_se"] < 0 < row["D_ci_low"] < row["D"] < row["D_ci_high"]


def test_a_replica_without_a_value_leaves_the_mean_without_one_and_reasons_are_given_once():
    runs = pd.DataFrame({
        "model": ["m", "m"], "replica": [0, 1], "D": [np.nan, 2.0],
        "why": ["window too short; MSD does not grow", "window too short"],
    })  # fmt: skip
    row = replica_means(runs, ["model"], ["D"]).iloc[0]
    assert np.isnan(row["D"]) and row["why"] == "MSD does not grow; window too short"
