"""Checks of a model's own MD: its stability against the AIMD envelope, the frames picked for DFT re-labelling
and the verdict of the error on them."""

import numpy as np
import pandas as pd
import pytest
from ase import Atoms

from conftest import run_md
from mlip_transfer.dynamics import relabel, trajectory
from mlip_transfer.dynamics.stability import Envelope, pair_minimum_distances, stability_report
from mlip_transfer.models.own_md import own_md_errors
from mlip_transfer.reference.box import Composition, build_box, cubic_box_length_A


def test_pair_minimum_distances_match_ase_minimum_image():
    box = build_box(Composition(1, 6, "K"), cubic_box_length_A(Composition(1, 6, "K")), seed=3)
    rng = np.random.default_rng(0)
    positions = box.positions + rng.normal(0, 2.0, (4, len(box), 3))  # some atoms leave the box
    symbols = np.array(box.get_chemical_symbols())
    pairs = pair_minimum_distances(positions, symbols, box.cell.lengths())
    for frame, xyz in enumerate(positions):
        atoms = Atoms(symbols, positions=xyz, cell=box.cell, pbc=True)
        d = atoms.get_all_distances(mic=True)
        np.fill_diagonal(d, np.inf)
        for pair, values in pairs.items():
            a, b = pair.split("-")
            assert values[frame] == pytest.approx(d[np.ix_(symbols == a, symbols == b)].min())


def frames_with(positions, forces, temperature_K, box_A=10.0):
    n = len(positions)
    return trajectory.Frames(
        species=np.array([8, 8, 1]), box_edges_A=np.full(3, box_A), steps=np.arange(n), times_ps=np.arange(n) * 0.01,
        positions_A=positions, velocities_A_per_ps=np.zeros_like(positions), forces_eV_per_A=forces,
        potential_energy_eV=np.zeros(n), temperature_K=temperature_K,
    )  # fmt: skip


def test_stability_report_counts_frames_outside_the_aimd_envelope_and_fits_the_drift():
    n = 100
    positions = np.zeros((n, 3, 3))
    positions[:, 1, 0] = 2.8  # O–O 2.8 Å ...
    positions[90:, 1, 0] = 2.2  # ... but 2.2 Å in the last 10 frames
    positions[:, 2, 0] = -1.0  # O–H 1.0 Å
    forces = np.zeros((n, 3, 3))
    forces[:, 0, 0] = 3.0
    forces[50:55, 0, 0] = 9.0  # 5 frames beyond the AIMD's largest force
    temperature = 300.0 + 20.0 * np.arange(n) * 0.01  # +20 K/ps
    envelope = Envelope({"O-O": 2.3, "H-O": 0.9, "H-H": np.inf}, max_force_eV_per_A=8.0)
    row = stability_report(frames_with(positions, forces, temperature), envelope, skip_frames=0,
                           max_outside_fraction=0.2)  # fmt: skip
    assert row["frames_examined"] == n
    assert row["min_distance_O-O_A"] == pytest.approx(2.2) and row["fraction_below_aimd_O-O"] == pytest.approx(0.1)
    assert row["fraction_below_aimd_H-O"] == 0.0 and row["fraction_above_aimd_force"] == pytest.approx(0.05)
    assert row["fraction_outside_aimd"] == pytest.approx(0.15) and not row["left_aimd_range"]
    assert row["temperature_drift_K_per_ps"] == pytest.approx(20.0)
    strict = stability_report(frames_with(positions, forces, temperature), envelope, 0, max_outside_fraction=0.1)
    assert strict["left_aimd_range"]
    # equilibration frames are not judged
    assert stability_report(frames_with(positions, forces, temperature), envelope, 90, 0.2)["frames_examined"] == 10


def test_frames_for_relabelling_are_spread_over_the_run_after_equilibration(tmp_path):
    box = build_box(Composition(1, 8, "K"), cubic_box_length_A(Composition(1, 8, "K")), seed=1)
    path = tmp_path / "md.h5"
    run_md(box, path, steps=40, write_interval=2)  # 21 frames, steps 0, 2, ..., 40
    picked = relabel.select_frames(path, n_frames=4, skip_frames=5)
    assert [a.info["md_step"] for a in picked] == [10, 20, 30, 40]
    assert all(np.all((a.get_scaled_positions(wrap=False) >= 0) & (a.get_scaled_positions(wrap=False) < 1))
               for a in picked)  # fmt: skip
    with pytest.raises(ValueError, match="md.h5: 6 frames after 15 of equilibration, 7 asked for"):
        relabel.select_frames(path, n_frames=7, skip_frames=15)


def per_frame(model, test_set, force_error_meV_per_A, n=40):
    return pd.DataFrame(
        {
            "md_step": np.arange(n), "force_components": 90,
            "force_squared_error_meV2_per_A2": np.full(n, 90 * force_error_meV_per_A**2),  # summed over components
            "energy_error_meV_per_atom": np.zeros(n), "model": model, "test_concentration": test_set,
        }
    )  # fmt: skip


def test_a_model_much_worse_on_its_own_md_than_on_aimd_fails():
    runs = [("ft_a", "c1.r0"), ("ft_b", "c1.r0")]
    tables = [per_frame("ft_a", "ft_a@c1.r0", 40.0), per_frame("ft_b", "ft_a@c1.r0", 60.0)]
    tables += [per_frame("ft_a", "ft_b@c1.r0", 35.0), per_frame("ft_b", "ft_b@c1.r0", 90.0)]
    matrix = pd.DataFrame(
        {"model": ["ft_a", "ft_b"], "test_concentration": ["c1", "c1"], "force_rmse_meV_per_A": [30.0, 30.0],
         "force_rmse_se_meV_per_A": [1.0, 1.0]}
    )  # fmt: skip
    entries, verdicts = own_md_errors(tables, ["ft_a", "ft_b"], runs, matrix, within_percent=50.0)
    assert len(entries) == 4  # every model on every run's frames
    verdicts = verdicts.set_index("model")
    assert verdicts.loc["ft_a", "own_md_force_rmse_meV_per_A"] == pytest.approx(40.0)
    assert verdicts.loc["ft_a", "own_md_over_aimd_test"] == pytest.approx(4 / 3)
    assert verdicts.loc["ft_a", "own_md_within_50_percent"] and not verdicts.loc["ft_b", "own_md_within_50_percent"]
    assert verdicts.loc["ft_b", "concentration"] == "c1"
