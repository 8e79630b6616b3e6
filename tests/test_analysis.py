import numpy as np
import pytest
from ase import Atoms
from ase.geometry.rdf import get_rdf

from mlip_transfer.analysis import (
    HBondCriterion,
    SolutionAnalysis,
    assign_hydrogens,
    classify_hbonds,
    diffusion_coefficient,
    hydrogen_bonds,
    hydrogen_counts,
    hydroxide_defect_trajectories,
    msd_fft,
    rdf_histogram,
    rdf_normalise,
)
from mlip_transfer.box import Composition, build_box, cubic_box_length_A

BOX = np.array([20.0, 20.0, 20.0])


def water_dimer(acceptor_rotation_deg=0.0):
    """Donor water at the origin with one H pointing at an acceptor O 2.9 Å away along x; the acceptor
    is rotated about the donor O by ``acceptor_rotation_deg`` in the xy plane."""
    t = np.radians(acceptor_rotation_deg)
    rot = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    acceptor = [[2.9, 0, 0], [3.2, 0.9, 0], [3.2, -0.9, 0]]
    positions = [[0, 0, 0], [0.957, 0, 0], [-0.24, 0.93, 0], *(rot @ np.array(p) for p in acceptor)]
    return Atoms("OHHOHH", positions=np.array(positions) + 5.0, cell=BOX, pbc=True)


def bonds_of(atoms, criterion=None):
    criterion = criterion or HBondCriterion()
    o = np.flatnonzero(atoms.numbers == 8)
    h = np.flatnonzero(atoms.numbers == 1)
    owner = assign_hydrogens(atoms.positions, o, h, BOX)
    return hydrogen_bonds(atoms.positions, o, h, owner, BOX, criterion), owner


def test_water_dimer_has_exactly_one_hbond():
    bonds, owner = bonds_of(water_dimer())
    assert list(owner) == [0, 0, 1, 1]
    assert bonds.tolist() == [[0, 0, 1]]  # donor O 0, via H 0, to acceptor O 1


def test_dimer_rotated_past_the_angle_cutoff_has_none():
    assert len(bonds_of(water_dimer(25.0))[0]) == 1
    assert len(bonds_of(water_dimer(35.0))[0]) == 0


def test_dimer_beyond_distance_cutoff_has_none():
    assert len(bonds_of(water_dimer(), HBondCriterion(donor_acceptor_cutoff_A=2.8))[0]) == 0


def test_hbond_across_the_periodic_boundary():
    dimer = water_dimer()
    dimer.positions += [13.0, 0, 0]  # acceptor now wraps to the other side of the 20 Å box
    dimer.wrap()
    assert len(bonds_of(dimer)[0]) == 1


def test_species_and_classes():
    atoms = water_dimer()
    del atoms[2]  # donor loses an H: it is now OH⁻ donating to water
    o, h = np.flatnonzero(atoms.numbers == 8), np.flatnonzero(atoms.numbers == 1)
    owner = assign_hydrogens(atoms.positions, o, h, BOX)
    assert hydrogen_counts(owner, 2).tolist() == [1, 2]
    bonds = hydrogen_bonds(atoms.positions, o, h, owner, BOX, HBondCriterion())
    counts = classify_hbonds(bonds, ["OH-", "H2O"])
    assert counts["OH-->water"] == 1 and sum(counts.values()) == 1


def test_rdf_of_uniform_points_tends_to_one():
    rng = np.random.default_rng(0)
    box = np.array([15.0] * 3)
    edges = np.arange(0, 7.5, 0.25)
    counts = np.zeros(len(edges) - 1)
    idx = np.arange(300)
    for _ in range(20):
        counts += rdf_histogram(rng.uniform(0, 15, (300, 3)), idx, idx, box, edges)
    g, _ = rdf_normalise(counts, edges, 300, 300, 300, 15.0**3, 20)
    assert np.abs(g[4:] - 1).max() < 0.1


def test_rdf_matches_ase():
    composition = Composition(5, 27)
    atoms = build_box(composition, cubic_box_length_A(composition), seed=2)
    r_max, n_bins = atoms.cell.lengths().min() / 2 - 0.01, 40
    ase_g, ase_r = get_rdf(atoms, r_max, n_bins, elements=(8, 8))
    edges = np.linspace(0, r_max, n_bins + 1)
    o = np.flatnonzero(atoms.numbers == 8)
    counts = rdf_histogram(atoms.positions, o, o, atoms.cell.lengths(), edges)
    g, cn = rdf_normalise(counts, edges, len(o), len(o), len(o), atoms.get_volume(), 1)
    # ASE divides by N_O² pairs, we by the N_O(N_O − 1) distinct ones (so that an ideal gas gives 1 exactly)
    n = len(o)
    assert np.allclose(g * (n - 1) / n, ase_g, rtol=1e-6, atol=1e-9)
    assert cn[-1] == pytest.approx(counts.sum() / len(o))


def test_fft_msd_equals_direct_average_over_origins():
    rng = np.random.default_rng(1)
    x = np.cumsum(rng.normal(size=(50, 4, 3)), axis=0)
    direct = [np.mean([np.sum((x[t + m] - x[t]) ** 2, axis=-1) for t in range(50 - m)]) for m in range(50)]
    assert np.allclose(msd_fft(x), direct)


def test_random_walk_gives_its_diffusion_coefficient():
    rng = np.random.default_rng(2)
    dt_ps, sigma_A = 0.01, 0.05  # per-component step → D = σ²/(2Δt) = 0.125 Å²/ps = 1.25e-9 m²/s
    x = np.cumsum(rng.normal(scale=sigma_A, size=(2000, 200, 3)), axis=0)
    t = np.arange(2000) * dt_ps
    assert diffusion_coefficient(t, msd_fft(x), (1.0, 5.0)) == pytest.approx(1.25, rel=0.05)


def test_fit_window_outside_trajectory_is_refused():
    with pytest.raises(ValueError, match="window"):
        diffusion_coefficient(np.arange(5) * 0.1, np.arange(5.0), (1.0, 2.0))


def test_constructed_proton_transfer_moves_the_defect_by_one_hop():
    box = np.array([10.0] * 3)
    o = np.array([[[1.0, 5, 5], [3.5, 5, 5], [9.5, 5, 5]]] * 3)  # static oxygens
    counts = np.array([[1, 2, 2], [2, 1, 2], [2, 2, 1]])  # OH⁻ hops 0 → 1 → 2
    track = hydroxide_defect_trajectories(o, counts, box)
    assert track.shape == (3, 1, 3)
    assert np.allclose(track[:, 0, 0], [1.0, 3.5, -0.5])  # the second hop crosses the boundary: 3.5 → 9.5 ≡ -0.5


def test_solution_analysis_on_a_jittered_box():
    composition = Composition(3, 29)
    atoms = build_box(composition, cubic_box_length_A(composition), seed=5)
    rng = np.random.default_rng(0)
    frames = []
    for _ in range(12):
        frame = atoms.copy()
        frame.positions += rng.normal(scale=0.02, size=frame.positions.shape)
        frames.append(frame)
    analysis = SolutionAnalysis(frame_interval_ps=0.01, diffusion_window_ps=(0.02, 0.1), skip_frames=2).run(frames)
    per_frame = analysis.results["frames"]
    assert len(per_frame) == 10 and (per_frame["n_OH-"] == 3).all() and (per_frame["n_H2O"] == 29).all()
    assert set(analysis.results["diffusion"]["species"]) == {"K+", "OH-", "H2O"}
    assert {"g_O-O", "cn_K-O"} <= set(analysis.results["rdf"].columns)
    assert analysis.results["hbonds"]["mean_n_OH-"].iloc[0] == 3
