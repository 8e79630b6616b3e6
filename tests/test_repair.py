"""Repairs: the committee disagreement, the three selections, the refusal of test frames and what the curves'
summary concludes from a transferability matrix."""

import numpy as np
import pandas as pd
import pytest
from ase.io import write

from conftest import labelled_frames
from mlip_transfer.models.transfer import ModelErrors
from mlip_transfer.repair import curves, selection
from mlip_transfer.repair.catalogue import FrameSelection


def test_max_devi_f_is_the_largest_atomic_force_deviation_among_members():
    forces = np.zeros((2, 3, 3))  # members × atoms × xyz, eV/Å
    forces[0, 1] = [0.2, 0.0, 0.0]  # atom 1 differs by 0.2 eV/Å in x: σ = 0.1 eV/Å over the two members
    forces[1, 2] = [0.0, 0.06, 0.08]  # atom 2 by a vector of norm 0.1: σ = 0.05 eV/Å
    assert selection.max_force_deviation_meV_per_A(forces) == pytest.approx(100.0)


def pool_of(disagreement):
    return pd.DataFrame(
        {"frame": range(len(disagreement)), "md_step": range(len(disagreement)), "time_ps": np.nan,
         "committee_disagreement_meV_per_A": disagreement}
    )  # fmt: skip


def test_selections_pick_evenly_at_random_or_where_the_committee_disagrees_most():
    pool = pool_of([5.0, 9.0, 1.0, 9.0, 7.0, 2.0, 8.0, 3.0])
    assert list(selection.pick(pool, "even", 3, seed=0)) == [0, 4, 7]
    assert list(selection.pick(pool, "committee", 3, seed=0)) == [1, 3, 6]  # 9, 9, 8
    assert list(selection.pick(pool, "committee", 1, seed=0)) == [1]  # a tie goes to the earlier frame
    smaller, larger = (selection.pick(pool, "random", n, seed=5) for n in (3, 6))
    assert set(smaller) <= set(larger)  # a smaller random budget is the start of a larger one
    assert list(selection.pick(pool, "random", 6, seed=5)) == list(larger) and len(set(larger)) == 6
    with pytest.raises(ValueError, match="9 frames asked of a pool of 8"):
        selection.pick(pool, "even", 9, seed=0)
    with pytest.raises(ValueError, match="disagreement on every pool frame"):
        selection.pick(pool_of([1.0, np.nan]), "committee", 1, seed=0)


def test_a_test_frame_is_never_given_to_a_repair(tmp_path):
    frames = labelled_frames(6, seed=3)
    write(tmp_path / "test.extxyz", [frames[4], frames[5]])
    pool = pool_of([1.0, 2.0, 3.0, 4.0, 9.0, 0.0])
    settings = FrameSelection(selection="committee", frames=2, seed=0)
    with pytest.raises(selection.LeakageError, match="frame 4 of pool.extxyz has the positions of frame 0"):
        selection.select(frames, pool, settings, [str(tmp_path / "test.extxyz")], "pool.extxyz")
    even = FrameSelection(selection="even", frames=2, seed=0)
    with pytest.raises(selection.LeakageError):
        selection.select(frames, pool, even, [str(tmp_path / "test.extxyz")], "pool.extxyz")  # frame 5 is last
    chosen, rows = selection.select(frames[:4], pool.iloc[:4], even, [str(tmp_path / "test.extxyz")], "pool")
    assert list(rows["frame"]) == [0, 3] and chosen[1] is frames[3]


def frame_errors(model, test, rmse, n_frames=40, seed=0):
    """Per-frame errors of one model on one test set whose force RMSE is ``rmse`` (meV/Å) give or take noise."""
    noise = np.random.default_rng(seed).normal(1.0, 0.05, n_frames)
    return pd.DataFrame(
        {"model": model, "test_concentration": test, "md_step": np.arange(n_frames), "force_components": 30,
         "force_squared_error_meV2_per_A2": 30 * (rmse * noise) ** 2}
    )  # fmt: skip


def test_the_summary_finds_the_fewest_frames_and_judges_committee_against_even_paired():
    rmse = {  # model: (at home "a", at the target "b")
        "base": (50.0, 120.0), "ft_b": (90.0, 60.0),
        "rp_even2": (52.0, 100.0), "rp_even8": (55.0, 64.0),
        "rp_committee2": (53.0, 80.0), "rp_committee8": (56.0, 62.0),
    }  # fmt: skip
    tables = [
        frame_errors(m, t, values[j], seed=j)  # the same noise per test set: paired, as the same frames are
        for m, values in rmse.items()
        for j, t in enumerate("ab")
    ]
    errors = ModelErrors.from_frame_errors(tables, list(rmse), ["a", "b"], n_resamples=500)
    repairs = [
        {"name": f"rp_{s}{n}", "base": "base", "target": "b", "selection": s, "source": "aimd", "frames": n,
         "seeds": [1], "within_percent": 10.0}
        for s in ("even", "committee") for n in (2, 8)
    ]  # fmt: skip
    table = curves.curves(errors, repairs, {r["name"]: 0.5 for r in repairs})
    assert set(table.query("n_frames == 0")["force_rmse_meV_per_A"].round(6)) == set(errors.point[0].round(6))
    assert table.query("n_frames == 8")["reference_core_h"].eq(4.0).all()
    own = {"b": ("ft_b", errors.point[errors.index("ft_b"), 1])}
    summary = curves.summary(errors, repairs, table, own, {"base": ["a"]}).set_index("selection")
    assert summary.loc["even", "frames_needed"] == 8 and summary.loc["committee", "frames_needed"] == 8
    assert summary.loc["committee", "minus_even_n_frames"] == 8
    assert summary.loc["committee", "minus_even_meV_per_A"] == pytest.approx(-2.0, abs=0.5)
    assert summary.loc["committee", "minus_even_ci_high_meV_per_A"] < 0  # paired: the frames' noise cancels
    assert summary.loc["even", "home_change_meV_per_A"] == pytest.approx(5.0, abs=0.5)
    assert "8 frames bring it within 10 %" in summary.loc["even", "statement"]
    assert "against even at 8 frames committee beats it" in summary.loc["committee", "statement"]
    strict = curves.summary(errors, [{**r, "within_percent": 1.0} for r in repairs], table, own, {})
    assert strict["frames_needed"].isna().all() and "no budget up to 8 frames" in strict["statement"].iloc[0]
