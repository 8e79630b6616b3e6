import numpy as np
import pandas as pd
import pytest

from mlip_transfer.evaluation import (
    Predictions,
    committee_force_sd,
    error_metrics,
    error_versus_distance,
    learning_curves,
    recommendation,
    relative_to_home,
    seed_statistics,
    transfer_summary,
    transferability_matrix,
)


def test_metrics_in_meV():
    forces_ref = np.zeros((4, 3))
    forces_pred = np.full((4, 3), 0.003)  # 3 meV/Å on every component
    forces_pred[0, 0] = -0.003
    p = Predictions(
        n_atoms=np.array([2, 2]),
        energy_ref_eV=np.array([-10.0, -10.0]),
        energy_pred_eV=np.array([-10.002, -9.996]),  # -1 and +2 meV/atom
        forces_ref_eV_per_A=forces_ref,
        forces_pred_eV_per_A=forces_pred,
    )
    m = error_metrics(p)
    assert m["force_rmse_meV_per_A"] == pytest.approx(3.0)
    assert m["force_mae_meV_per_A"] == pytest.approx(3.0)
    assert m["energy_mae_meV_per_atom"] == pytest.approx(1.5)
    assert m["energy_rmse_meV_per_atom"] == pytest.approx(np.sqrt((1 + 4) / 2))


def test_matrix_rows_are_models_columns_tests_in_given_order():
    errors = pd.DataFrame(
        {
            "model": ["a", "a", "b", "b"],
            "test_concentration": ["x", "y", "x", "y"],
            "force_rmse_meV_per_A": [1, 2, 3, 4],
        }
    )
    matrix = transferability_matrix(errors, "force_rmse_meV_per_A", ["b", "a"], ["y", "x"])
    assert matrix.loc["b", "y"] == 4 and list(matrix.index) == ["b", "a"] and list(matrix.columns) == ["y", "x"]


def test_predictions_roundtrip(tmp_path):
    p = Predictions(np.array([1]), np.array([1.0]), np.array([2.0]), np.ones((1, 3)), np.zeros((1, 3)))
    p.save(tmp_path / "p.npz")
    assert np.array_equal(Predictions.load(tmp_path / "p.npz").forces_ref_eV_per_A, p.forces_ref_eV_per_A)


def hand_errors(matrix, se=1.0):
    """Tidy errors from {model: {test: force RMSE}} with one standard error for all entries."""
    return pd.DataFrame(
        [
            {"model": m, "test_concentration": c, "force_rmse_meV_per_A": v, "force_rmse_se_meV_per_A": se}
            for m, row in matrix.items()
            for c, v in row.items()
        ]
    )


TRAINING = {"ft_a": ["a"], "ft_b": ["b"], "ft_c": ["c"], "multi": ["a", "c"]}
MOLARITIES = {"a": 1.0, "b": 6.0, "c": 15.0}
# ft_b, trained in the middle, transfers best; the multi model is worse than ft_b overall
HAND = {
    "foundation": {"a": 200.0, "b": 220.0, "c": 260.0},
    "ft_a": {"a": 30.0, "b": 60.0, "c": 120.0},
    "ft_b": {"a": 45.0, "b": 32.0, "c": 50.0},
    "ft_c": {"a": 110.0, "b": 70.0, "c": 35.0},
    "multi": {"a": 33.0, "b": 55.0, "c": 38.0},
}


def test_matrix_relative_to_each_test_sets_own_model():
    errors = hand_errors(HAND)
    matrix = transferability_matrix(errors, "force_rmse_meV_per_A", list(HAND), ["a", "b", "c"])
    relative = relative_to_home(matrix)
    assert relative.loc["ft_a", "a"] == relative.loc["ft_b", "b"] == relative.loc["ft_c", "c"] == 1.0
    assert relative.loc["ft_a", "c"] == pytest.approx(120 / 35) and relative.loc["foundation", "b"] == 220 / 32


def test_summary_and_recommendation_of_a_constructed_matrix():
    summary = transfer_summary(hand_errors(HAND), TRAINING, list(HAND)).set_index("model")
    assert summary.loc["ft_b", "mean_off_home_meV_per_A"] == 47.5 and summary.loc["ft_b", "rank_off_home"] == 1
    assert summary.loc["ft_a", "worst_off_home_meV_per_A"] == 120 and summary.loc["ft_a", "worst_off_home_test"] == "c"
    assert summary.loc["multi", "kind"] == "multi" and summary.loc["multi", "mean_home_meV_per_A"] == 35.5
    assert summary.loc["ft_b", "mean_off_home_se_meV_per_A"] == pytest.approx(np.sqrt(2) / 2)
    advice = recommendation(summary.reset_index(), MOLARITIES)
    assert advice["best_single_model"] == "ft_b" and advice["best_single_molarity_mol_per_L"] == 6.0
    assert advice["distinguishable_from_runner_up"] and advice["lowest_worst_case_model"] == "ft_b"
    assert advice["best_multi_model"] == "multi" and not advice["multi_beats_best_single"]  # 42.0 vs 42.33
    assert "not distinguishable" in advice["statement"]


def test_close_candidates_are_reported_as_indistinguishable():
    close = {**HAND, "ft_a": {"a": 30.0, "b": 47.0, "c": 49.0}}  # 48 vs ft_b's 47.5 off home
    advice = recommendation(transfer_summary(hand_errors(close, se=2.0), TRAINING, list(close)), MOLARITIES)
    assert advice["best_single_model"] == "ft_b" and not advice["distinguishable_from_runner_up"]
    assert "not distinguishable from ft_a" in advice["statement"]


def test_error_versus_distance_of_single_concentration_models():
    table = error_versus_distance(hand_errors(HAND), TRAINING, MOLARITIES).set_index(["model", "test_concentration"])
    assert set(table.index.get_level_values("model")) == {"ft_a", "ft_b", "ft_c"}
    assert (
        table.loc[("ft_c", "a"), "distance_mol_per_L"] == 14.0 and table.loc[("ft_b", "b"), "distance_mol_per_L"] == 0
    )


def test_force_rmse_standard_error_from_resampled_frames():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(40, 3))
    same = Predictions(np.full(10, 4), np.zeros(10), np.zeros(10), reference, reference + 0.01)
    assert error_metrics(same)["force_rmse_se_meV_per_A"] == pytest.approx(0.0, abs=1e-9)  # every frame alike
    noisy = Predictions(np.full(10, 4), np.zeros(10), np.zeros(10), reference, reference + rng.normal(0, 0.05, (40, 3)))
    metrics = error_metrics(noisy)
    assert 0 < metrics["force_rmse_se_meV_per_A"] < 0.3 * metrics["force_rmse_meV_per_A"]


def test_seeds_give_the_mean_and_standard_deviation_of_hand_values():
    per_seed = pd.DataFrame(
        {
            "model": ["ft_a", "ft_a.seed5", "ft_a.seed6", "foundation"],
            "test_concentration": ["a", "a", "a", "a"],
            "force_rmse_meV_per_A": [30.0, 34.0, 38.0, 90.0],
            "force_rmse_se_meV_per_A": [3.0, 3.0, 3.0, 4.0],
        }
    )
    table = seed_statistics(per_seed).set_index("model")
    assert table.loc["ft_a", "force_rmse_meV_per_A"] == pytest.approx(34.0)
    assert table.loc["ft_a", "force_rmse_sd_meV_per_A"] == pytest.approx(4.0)  # sd of 30, 34, 38
    assert table.loc["ft_a", "n_seeds"] == 3
    assert table.loc["ft_a", "force_rmse_se_meV_per_A"] == pytest.approx(np.sqrt(16 / 3 + 9))
    # one seed: no spread, the frames' standard error alone
    assert np.isnan(table.loc["foundation", "force_rmse_sd_meV_per_A"])
    assert table.loc["foundation", "force_rmse_se_meV_per_A"] == pytest.approx(4.0)


def test_committee_disagreement_is_the_rms_of_the_per_component_spread():
    def member(forces):
        zeros = np.zeros(1)
        return Predictions(np.array([2]), zeros, zeros, np.zeros((2, 3)), np.array(forces, dtype=float))

    agree = [member([[0.1] * 3, [0.2] * 3])] * 3
    assert committee_force_sd(agree) == pytest.approx(0.0, abs=1e-9)
    # two members 2 meV/Å apart on every component: sd = sqrt(2) meV/Å
    apart = [member(np.zeros((2, 3))), member(np.full((2, 3), 0.002))]
    assert committee_force_sd(apart) == pytest.approx(np.sqrt(2.0))


def test_learning_curves_put_each_budget_at_its_number_of_frames():
    errors = pd.DataFrame(
        {
            "model": ["ft_a.frames5", "ft_a", "ft_a.frames10", "ft_b", "foundation"],
            "test_concentration": ["b", "b", "b", "b", "b"],
            "force_rmse_meV_per_A": [80.0, 40.0, 60.0, 30.0, 99.0],
            "force_rmse_se_meV_per_A": [1.0, 1.0, 1.0, 1.0, 1.0],
        }
    )
    curves = learning_curves(errors, {"ft_a.frames5": 5, "ft_a.frames10": 10, "ft_a": 32})
    assert list(curves["model"]) == ["ft_a"] * 3  # neither ft_b nor the foundation model is a budget of ft_a
    assert list(curves["training_frames"]) == [5, 10, 32]
    assert list(curves["force_rmse_meV_per_A"]) == [80.0, 60.0, 40.0]
