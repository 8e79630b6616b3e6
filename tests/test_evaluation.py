import numpy as np
import pandas as pd
import pytest

from mlip_transfer.evaluation import Predictions, error_metrics, transferability_matrix


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
