"""The transfer views on constructed matrices: like-for-like ranking, paired decisions, relative errors."""

import numpy as np
import pandas as pd
import pytest

from mlip_transfer.models.transfer import (
    ModelErrors,
    error_versus_distance,
    home_models,
    recommendation,
    relative_to_home,
    transfer_summary,
    transferability_matrix,
)

TRAINING = {"ft_a": ["a"], "ft_b": ["b"], "ft_c": ["c"], "multi": ["a", "c"]}
MOLARITIES = {"a": 1.0, "b": 6.0, "c": 15.0}
# Test set c is hard for everybody. Off home, ft_c looks best (it never meets c); judged on every test set,
# relative to the best model on each, ft_b is best.
HAND = {
    "foundation": {"a": 200.0, "b": 220.0, "c": 400.0},
    "ft_a": {"a": 30.0, "b": 60.0, "c": 200.0},
    "ft_b": {"a": 50.0, "b": 30.0, "c": 190.0},
    "ft_c": {"a": 80.0, "b": 70.0, "c": 150.0},
    "multi": {"a": 32.0, "b": 45.0, "c": 155.0},
}


def constructed(matrix, frames=200, noise=0.01, seed=0):
    """ModelErrors whose force RMSE is ``matrix`` (model → test → meV/Å), with small per-frame noise."""
    rng = np.random.default_rng(seed)
    tables = []
    for model, row in matrix.items():
        for test, rmse in row.items():
            squared = 3 * rmse**2 * (1 + noise * rng.standard_normal(frames))
            tables.append(
                pd.DataFrame(
                    {
                        "model": model,
                        "test_concentration": test,
                        "md_step": np.arange(frames),
                        "force_components": 3,
                        "force_squared_error_meV2_per_A2": squared * 3 * rmse**2 / squared.mean(),
                    }  # fmt: skip
                )
            )
    tests = list(next(iter(matrix.values())))
    return ModelErrors.from_frame_errors(tables, list(matrix), tests, n_resamples=500)


def test_recommendation_follows_the_like_for_like_ranking_not_the_off_home_one():
    errors = constructed(HAND)
    summary = transfer_summary(errors, TRAINING).set_index("model")
    assert summary.loc["ft_c", "rank_mean_off_home"] == 1  # 75 meV/Å off home: it never meets test set c
    assert summary.loc["ft_b", "rank_ratio_to_best"] == 1 and summary.loc["ft_b", "rank_mean_all"] == 1
    # ratios to the best single model per test set (30, 30, 150): ft_b (5/3 + 1 + 19/15) / 3
    assert summary.loc["ft_b", "ratio_to_best"] == pytest.approx((5 / 3 + 1 + 19 / 15) / 3, rel=1e-3)
    assert summary.loc["ft_a", "mean_all_meV_per_A"] == pytest.approx(290 / 3, rel=1e-3)
    assert summary.loc["ft_a", "worst_off_home_meV_per_A"] == pytest.approx(200.0, rel=1e-3)
    assert summary.loc["ft_a", "worst_off_home_test"] == "c"
    assert summary.loc["multi", "kind"] == "multi" and summary.loc["multi", "mean_home_meV_per_A"] == pytest.approx(
        93.5, rel=1e-3
    )
    advice = recommendation(errors, summary.reset_index(), MOLARITIES)
    assert advice["best_single_model"] == "ft_b" and advice["best_single_molarity_mol_per_L"] == 6.0
    assert advice["runner_up_model"] == "ft_a" and advice["distinguishable_from_runner_up"]
    assert advice["best_multi_model"] == "multi" and advice["multi_beats_best_single"]
    assert advice["decided_by"] == "ratio_to_best"


def test_close_candidates_are_not_distinguishable():
    close = {**HAND, "ft_a": {"a": 50.5, "b": 30.2, "c": 190.5}}  # within 1 % of ft_b everywhere
    errors = constructed(close, frames=40, noise=0.5)
    advice = recommendation(errors, transfer_summary(errors, TRAINING), MOLARITIES)
    assert {advice["best_single_model"], advice["runner_up_model"]} == {"ft_a", "ft_b"}
    assert not advice["distinguishable_from_runner_up"] and "not distinguishable" in advice["statement"]
    assert advice["difference_ci_low"] < 0 < advice["difference_ci_high"]


def test_matrix_relative_to_each_test_sets_own_model():
    table = constructed(HAND).entries()
    matrix = transferability_matrix(table, "force_rmse_meV_per_A", list(HAND), ["a", "b", "c"])
    assert list(matrix.index) == list(HAND) and list(matrix.columns) == ["a", "b", "c"]
    relative = relative_to_home(matrix, home_models(["a", "b", "c"], TRAINING))
    assert relative.loc["ft_a", "a"] == relative.loc["ft_b", "b"] == relative.loc["ft_c", "c"] == 1.0
    assert relative.loc["ft_a", "c"] == pytest.approx(200 / 150, rel=1e-3)


def test_where_nothing_is_trained_an_external_model_declared_at_a_test_set_is_its_home():
    theirs = {"theirs_a": HAND["ft_a"], "theirs_b": HAND["ft_b"], "unknown": HAND["ft_c"]}
    table = constructed(theirs).entries()
    matrix = transferability_matrix(table, "force_rmse_meV_per_A", list(theirs), ["a", "b", "c"])
    home = home_models(["a", "b", "c"], {"theirs_a": ["a"], "theirs_b": ["b"]})
    assert home == {"a": "theirs_a", "b": "theirs_b"}
    relative = relative_to_home(matrix, home)
    assert relative.loc["theirs_a", "a"] == relative.loc["theirs_b", "b"] == 1.0
    assert relative["c"].isna().all()  # no model was trained at c: nothing to be relative to


def test_error_versus_distance_of_single_concentration_models():
    table = error_versus_distance(constructed(HAND).entries(), TRAINING, MOLARITIES)
    table = table.set_index(["model", "test_concentration"])
    assert set(table.index.get_level_values("model")) == {"ft_a", "ft_b", "ft_c"}
    assert (
        table.loc[("ft_c", "a"), "distance_mol_per_L"] == 14.0 and table.loc[("ft_b", "b"), "distance_mol_per_L"] == 0
    )


def test_replicates_survive_a_round_trip(tmp_path):
    errors = constructed(HAND)
    errors.save(tmp_path / "r.npz")
    loaded = ModelErrors.load(tmp_path / "r.npz")
    assert loaded.models == list(HAND) and loaded.tests == ["a", "b", "c"]
    assert np.array_equal(loaded.frame_deviations, errors.frame_deviations)


def test_an_external_model_is_a_candidate_only_where_its_training_concentration_is_declared():
    elsewhere = {**HAND, "theirs": {"a": 45.0, "b": 25.0, "c": 185.0}, "unknown": {"a": 20.0, "b": 20.0, "c": 100.0}}
    errors = constructed(elsewhere)
    training = {**TRAINING, "theirs": ["b"], "unknown": []}
    summary = transfer_summary(errors, training, external=["theirs", "unknown"]).set_index("model")
    assert summary.loc["theirs", "kind"] == "external" and summary.loc["unknown", "kind"] == "external"
    assert summary.loc["theirs", "rank_ratio_to_best"] == 1  # declared at b: ranked with the study's fine-tunes
    assert np.isnan(summary.loc["unknown", "rank_ratio_to_best"])  # better everywhere, but of unknown origin
    advice = recommendation(errors, summary.reset_index(), MOLARITIES)
    assert advice["best_single_model"] == "theirs" and advice["runner_up_model"] == "ft_b"
    assert advice["best_single_molarity_mol_per_L"] == 6.0
