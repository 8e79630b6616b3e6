import numpy as np
import pandas as pd
import pytest

from mlip_transfer.models.evaluation import (
    Predictions,
    committee_force_sd,
    error_metrics,
    frame_errors,
    learning_curves,
    seed_means,
)


def test_metrics_in_meV():
    forces_ref = np.zeros((4, 3))
    forces_pred = np.full((4, 3), 0.003)  # 3 meV/Å on every component
    forces_pred[0, 0] = -0.003
    p = Predictions(
        md_step=np.array([0, 10]),
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
    # the mean offset (+0.5 meV/atom) apart, the two frames err by ∓1.5 meV/atom
    assert m["energy_offset_meV_per_atom"] == pytest.approx(0.5)
    assert m["energy_rmse_offset_free_meV_per_atom"] == pytest.approx(1.5)
    assert m["energy_mae_offset_free_meV_per_atom"] == pytest.approx(1.5)
    per_frame = frame_errors(p)
    assert list(per_frame["md_step"]) == [0, 10] and list(per_frame["force_components"]) == [6, 6]
    assert per_frame["force_squared_error_meV2_per_A2"].tolist() == pytest.approx([54.0, 54.0])


def test_predictions_roundtrip(tmp_path):
    p = Predictions(np.array([5]), np.array([1]), np.array([1.0]), np.array([2.0]), np.ones((1, 3)), np.zeros((1, 3)))
    p.save(tmp_path / "p.npz")
    assert np.array_equal(Predictions.load(tmp_path / "p.npz").forces_ref_eV_per_A, p.forces_ref_eV_per_A)


def test_force_rmse_standard_error_from_resampled_frames():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(40, 3))
    steps, zeros = np.arange(10), np.zeros(10)
    same = Predictions(steps, np.full(10, 4), zeros, zeros, reference, reference + 0.01)
    assert error_metrics(same)["force_rmse_se_meV_per_A"] == pytest.approx(0.0, abs=1e-9)  # every frame alike
    noisy = Predictions(steps, np.full(10, 4), zeros, zeros, reference, reference + rng.normal(0, 0.05, (40, 3)))
    metrics = error_metrics(noisy)
    assert 0 < metrics["force_rmse_se_meV_per_A"] < 0.3 * metrics["force_rmse_meV_per_A"]
    assert metrics["block_length_frames"] >= 1 and metrics["correlation_time_frames"] >= 1.0


def test_seed_means_fold_committee_members_into_their_model():
    per_seed = pd.DataFrame(
        {
            "model": ["ft_a", "ft_a.seed5", "ft_a.seed6", "foundation"],
            "test_concentration": ["a", "a", "a", "a"],
            "force_mae_meV_per_A": [30.0, 34.0, 38.0, 90.0],
        }
    )
    table = seed_means(per_seed).set_index("model")
    assert table.loc["ft_a", "force_mae_meV_per_A"] == pytest.approx(34.0) and table.loc["ft_a", "n_seeds"] == 3
    assert table.loc["foundation", "n_seeds"] == 1


def test_committee_disagreement_is_the_rms_of_the_per_component_spread():
    def member(forces):
        zeros = np.zeros(1)
        return Predictions(np.array([0]), np.array([2]), zeros, zeros, np.zeros((2, 3)), np.array(forces, dtype=float))

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


def test_energies_are_re_referenced_to_the_reference_methods_isolated_atoms(tmp_path):
    """A model with its own E0s (here zero, as a foundation model trained elsewhere carries others) predicts
    energies on the reference's scale once Σ (E0_reference − E0_model) over the frame's atoms is added."""
    from ase import Atoms

    from mlip_transfer.models.evaluation import model_e0s_eV, predict
    from mlip_transfer.models.mace import load_calculator, random_model
    from mlip_transfer.reference.frames import ENERGY_KEY, FORCES_KEY

    calculator = load_calculator(random_model(tmp_path / "m.model", channels=8, max_L=0), device="cpu")
    assert model_e0s_eV(calculator) == {1: 0.0, 8: 0.0, 19: 0.0}
    water = Atoms("OH2", positions=[(0, 0, 0), (0.96, 0, 0), (-0.24, 0.93, 0)], cell=[8.0] * 3, pbc=True)
    water.info[ENERGY_KEY], water.arrays[FORCES_KEY] = 0.0, np.zeros((3, 3))
    raw = predict(calculator, [water])
    shifted = predict(calculator, [water], reference_e0s_eV={1: -13.0, 8: -400.0, 19: -800.0})
    assert shifted.energy_pred_eV[0] - raw.energy_pred_eV[0] == pytest.approx(-426.0)
    assert np.array_equal(shifted.forces_pred_eV_per_A, raw.forces_pred_eV_per_A)
