"""Block-bootstrap uncertainty of a force RMSE on time-correlated frames, and paired comparisons."""

import numpy as np
import pandas as pd
import pytest

from mlip_transfer.models.evaluation import force_rmse
from mlip_transfer.models.transfer import ModelErrors, mean_over, paired_difference
from mlip_transfer.models.uncertainty import CorrelationTime, integrated_autocorrelation_time, interval


def ar1(rng, shape, phi):
    """Gaussian AR(1) series along axis 1 with unit stationary variance."""
    noise = rng.standard_normal(shape)
    x = np.empty(shape)
    x[:, 0] = noise[:, 0]
    for t in range(1, shape[1]):
        x[:, t] = phi * x[:, t - 1] + np.sqrt(1 - phi**2) * noise[:, t]
    return x


def frame_table(model, test, squared_errors, components):
    return pd.DataFrame(
        {
            "model": model,
            "test_concentration": test,
            "md_step": np.arange(len(squared_errors)),
            "force_components": components,
            "force_squared_error_meV2_per_A2": squared_errors,
        }
    )


def test_integrated_autocorrelation_time_of_known_processes():
    rng = np.random.default_rng(0)
    assert integrated_autocorrelation_time(rng.standard_normal(20000))[0] == pytest.approx(1.0, abs=0.1)
    # AR(1) with φ = 0.8: τ_int = (1 + φ) / (1 − φ) = 9
    assert integrated_autocorrelation_time(ar1(rng, (1, 50000), 0.8)[0])[0] == pytest.approx(9.0, rel=0.15)
    assert integrated_autocorrelation_time(np.ones(50))[0] == 1.0  # constant: nothing to correlate


def test_block_interval_covers_the_true_rmse_at_its_rate_where_the_iid_bootstrap_does_not():
    """AR(1)-correlated force errors of known variance (true RMSE 1): the 95 % interval of the block
    bootstrap covers 1 in 95 % ± 3 % of 300 trajectories; resampling frames one by one under-covers."""
    rng = np.random.default_rng(2025)
    draws, n_frames, components, phi = 300, 2000, 6, 0.9
    errors = ar1(rng, (draws * components, n_frames), phi).reshape(draws, components, n_frames)
    covered = covered_iid = 0
    for d in range(draws):
        squared = (errors[d] ** 2).sum(axis=0)
        table = frame_table("m", "t", squared, components)
        entry = ModelErrors.from_frame_errors([table], ["m"], ["t"], n_resamples=1000, seed=d).entries().iloc[0]
        covered += entry["force_rmse_ci_low_meV_per_A"] <= 1.0 <= entry["force_rmse_ci_high_meV_per_A"]
        iid = force_rmse(table, rng.integers(0, n_frames, size=(1000, n_frames)))
        low, high = np.percentile(iid, [2.5, 97.5])
        covered_iid += low <= 1.0 <= high
    assert 0.92 <= covered / draws <= 0.98
    assert covered_iid / draws < 0.75


def test_block_length_follows_the_slowest_series_of_a_test_set():
    rng = np.random.default_rng(1)
    fast, slow = rng.standard_normal(4000) ** 2, ar1(rng, (1, 4000), 0.95)[0] ** 2
    together = CorrelationTime.of([fast, slow])
    assert together.block_length == CorrelationTime.of([slow]).block_length > CorrelationTime.of([fast]).block_length
    assert together.n_blocks == 4000 // together.block_length and together.variance_factor >= 1.0
    index = together.resample(5, rng)
    assert index.shape == (5, 4000) and np.all(np.diff(index[:, : together.block_length], axis=1) % 4000 == 1)


def test_a_paired_difference_is_resolved_where_independent_errors_overlap():
    """Two models that err alike on the hard frames of one trajectory, B 4 % worse on every frame: each
    RMSE alone is uncertain, their paired difference is not."""
    rng = np.random.default_rng(3)
    difficulty = np.exp(1.5 * ar1(rng, (1, 600), 0.9)[0])  # slowly varying, heavy-tailed frame difficulty
    a = frame_table("a", "t", 100 * difficulty, 30)
    b = frame_table("b", "t", 100 * difficulty * 1.04**2 * (1 + 0.01 * rng.standard_normal(600)), 30)
    errors = ModelErrors.from_frame_errors([a, b], ["a", "b"], ["t"], seed=0)
    entries = errors.entries().set_index("model")
    gap = entries.loc["b", "force_rmse_meV_per_A"] - entries.loc["a", "force_rmse_meV_per_A"]
    independent = 2 * np.hypot(entries.loc["a", "force_rmse_se_meV_per_A"], entries.loc["b", "force_rmse_se_meV_per_A"])
    assert gap < independent  # as independent numbers: indistinguishable
    paired = paired_difference(errors, mean_over(), "b", "a")
    assert paired["estimate"] == pytest.approx(gap) and paired["ci_low"] > 0  # paired: clearly worse


def test_seed_spread_enters_as_one_deviation_over_all_test_sets():
    """Two seeds of one model, 10 meV/Å apart on both test sets: the mean over test sets keeps the whole
    seed spread (a seed is one model everywhere), it does not average down over test sets."""
    rows = []
    for member, level in (("m", 50.0), ("m.seed2", 60.0)):
        for test in ("t1", "t2"):
            rows.append(frame_table(member, test, np.full(40, level**2 * 3), 3))
    errors = ModelErrors.from_frame_errors(rows, ["m"], ["t1", "t2"], seed=0)
    entry = errors.entries().iloc[0]
    assert entry["force_rmse_meV_per_A"] == pytest.approx(55.0) and entry["n_seeds"] == 2
    assert entry["force_rmse_sd_meV_per_A"] == pytest.approx(np.sqrt(50.0))
    mean = errors.estimate(mean_over(), ["m"]).iloc[0]
    assert mean["se_frames"] == pytest.approx(0.0, abs=1e-9)  # every frame alike
    assert mean["se_seeds"] == pytest.approx(5.0, rel=0.05)  # sd √50 / √2 seeds, not divided by √2 test sets


def test_members_evaluated_on_other_frames_are_refused():
    a = frame_table("a", "t", np.ones(10), 3)
    b = frame_table("b", "t", np.ones(10), 3).assign(md_step=np.arange(10) + 1)
    with pytest.raises(ValueError, match="test set t: b was evaluated on other frames"):
        ModelErrors.from_frame_errors([a, b], ["a", "b"], ["t"])


def test_an_rmse_interval_never_falls_below_zero():
    """Few blocks and a large spread: the symmetric interval would reach below zero, the log-scale one of a
    positive quantity does not, and where the spread is small the two agree."""
    low, high = interval(296.0, 120.0, dof=1.0)
    assert low < 0  # what a symmetric t interval on one degree of freedom claims
    low, high = interval(296.0, 120.0, dof=1.0, positive=True)
    assert 0 < low < 296.0 < high and low * high == pytest.approx(296.0**2)
    narrow = interval(296.0, 1.0, dof=50.0, positive=True)
    assert narrow == pytest.approx(interval(296.0, 1.0, dof=50.0), rel=1e-4)
