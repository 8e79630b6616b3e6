import numpy as np
import pytest
from ase import Atoms
from ase.geometry.rdf import get_rdf

from mlip_transfer.analysis.hbonds import (
    HBondCriterion,
    block_ratio_error,
    classify_hbonds,
    hbond_correlations,
    hydrogen_bonds,
    hydroxide_defect_trajectories,
    persistent_transfers,
    settled_hosts,
)
from mlip_transfer.analysis.solution import SolutionAnalysis
from mlip_transfer.analysis.structure import first_shell, rdf_normalise
from mlip_transfer.analysis.transport import (
    diffusion_coefficient,
    msd_fft,
    msd_loglog_slope,
    nernst_einstein_conductivity_S_per_m,
    why_not_diffusive,
    yeh_hummer_correction,
)
from mlip_transfer.chemistry import Hydroxide
from mlip_transfer.geometry import ChunkGeometry, chunk_geometries, chunks_from_atoms, kind_index, minimum_image
from mlip_transfer.reference.box import Composition, build_box, cubic_box_length_A

BOX = np.array([20.0, 20.0, 20.0])


def water_dimer(acceptor_rotation_deg=0.0):
    """Donor water at the origin with one H pointing at an acceptor O 2.9 Å away along x; the acceptor
    is rotated about the donor O by ``acceptor_rotation_deg`` in the xy plane."""
    t = np.radians(acceptor_rotation_deg)
    rot = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    acceptor = [[2.9, 0, 0], [3.2, 0.9, 0], [3.2, -0.9, 0]]
    positions = [[0, 0, 0], [0.957, 0, 0], [-0.24, 0.93, 0], *(rot @ np.array(p) for p in acceptor)]
    return Atoms("OHHOHH", positions=np.array(positions) + 5.0, cell=BOX, pbc=True)


def geometry(atoms, box=BOX):
    return ChunkGeometry.of(atoms.positions, kind_index(np.asarray(atoms.symbols), "K"), box, 3.5)


def bonds_of(atoms, criterion=None):
    """(donor, hydrogen, acceptor) rows of a single frame, and each H's owner O."""
    criterion = criterion or HBondCriterion()
    index = kind_index(np.asarray(atoms.symbols), "K")
    g = ChunkGeometry.of(atoms.positions, index, BOX, criterion.donor_acceptor_cutoff_A)
    return hydrogen_bonds(g, criterion)[:, 1:], g.owner[0]


def test_water_dimer_has_exactly_one_hbond():
    bonds, owner = bonds_of(water_dimer())
    assert list(owner) == [0, 0, 1, 1]
    assert bonds.tolist() == [[0, 0, 1]]  # donor O 0, via H 0, to acceptor O 1


def test_dimer_rotated_past_the_angle_cutoff_has_none():
    assert len(bonds_of(water_dimer(25.0))[0]) == 1
    assert len(bonds_of(water_dimer(35.0))[0]) == 0


def test_dimer_beyond_distance_cutoff_has_none():
    assert len(bonds_of(water_dimer(), HBondCriterion(donor_acceptor_cutoff_A=2.8))[0]) == 0


def test_alternative_criteria():
    # H···O(acceptor) = 2.9 − 0.957 Å; the O–H···O angle of the straight dimer is 180°
    only_distance = HBondCriterion(angle_cutoff_deg=None, hydrogen_acceptor_cutoff_A=2.0)
    assert len(bonds_of(water_dimer(), only_distance)[0]) == 1
    assert len(bonds_of(water_dimer(), HBondCriterion(angle_cutoff_deg=None, hydrogen_acceptor_cutoff_A=1.9))[0]) == 0
    dha = HBondCriterion(angle_cutoff_deg=None, donor_hydrogen_acceptor_min_angle_deg=150)
    assert len(bonds_of(water_dimer(), dha)[0]) == 1
    assert len(bonds_of(water_dimer(40.0), dha)[0]) == 0


def test_hbond_across_the_periodic_boundary():
    dimer = water_dimer()
    dimer.positions += [13.0, 0, 0]  # acceptor now wraps to the other side of the 20 Å box
    dimer.wrap()
    assert len(bonds_of(dimer)[0]) == 1


def test_species_and_classes():
    atoms = water_dimer()
    del atoms[2]  # donor loses an H: it is now OH⁻ donating to water
    g = geometry(atoms)
    assert g.hydrogen_counts.tolist() == [[1, 2]]
    counts = classify_hbonds(hydrogen_bonds(g, HBondCriterion()), g.hydrogen_counts)
    assert counts["OH-->water"].tolist() == [1] and sum(c.sum() for c in counts.values()) == 1


def distances(a, b, box):
    """All minimum-image distances between two point sets."""
    return np.linalg.norm(minimum_image(b[None, :, :] - a[:, None, :], box), axis=-1)


def test_rdf_of_uniform_points_tends_to_one():
    rng = np.random.default_rng(0)
    box, n, frames = np.array([15.0] * 3), 300, 20
    edges = np.arange(0, 7.5, 0.25)
    counts = np.zeros(len(edges) - 1)
    for _ in range(frames):
        d = distances(*(2 * [rng.uniform(0, 15, (n, 3))]), box)
        counts += np.histogram(d[~np.eye(n, dtype=bool)], bins=edges)[0]
    g, cn = rdf_normalise(counts, edges, frames * n * (n - 1) / 15.0**3, frames * n)
    assert np.abs(g[4:] - 1).max() < 0.1
    assert cn[-1] == pytest.approx(counts.sum() / (frames * n))


def test_rdf_matches_ase():
    composition = Composition(5, 27, "K")
    atoms = build_box(composition, cubic_box_length_A(composition), seed=2)
    r_max, n_bins = atoms.cell.lengths().min() / 2 - 0.01, 40
    ase_g, _ = get_rdf(atoms, r_max, n_bins, elements=(8, 8))
    edges = np.linspace(0, r_max, n_bins + 1)
    o = atoms.positions[atoms.numbers == 8]
    n = len(o)
    d = distances(o, o, atoms.cell.lengths())
    counts = np.histogram(d[~np.eye(n, dtype=bool)], bins=edges)[0]
    g, _ = rdf_normalise(counts, edges, n * (n - 1) / atoms.get_volume(), n)
    # ASE divides by N_O² pairs, we by the N_O(N_O − 1) distinct ones (so that an ideal gas gives 1 exactly)
    assert np.allclose(g * (n - 1) / n, ase_g, rtol=1e-6, atol=1e-9)


def test_first_shell_of_a_constructed_rdf():
    r = np.arange(0.025, 6, 0.05)
    g = np.exp(-((r - 2.8) ** 2) / 0.02) * 2 + 1 - np.exp(-((r - 3.3) ** 2) / 0.05)
    r_min, _ = first_shell(r, g, np.cumsum(g))
    assert r_min == pytest.approx(3.3, abs=0.06)


def test_fft_msd_equals_direct_average_over_origins():
    rng = np.random.default_rng(1)
    x = np.cumsum(rng.normal(size=(50, 4, 3)), axis=0)
    direct = [np.mean([np.sum((x[t + m] - x[t]) ** 2, axis=-1) for t in range(50 - m)]) for m in range(50)]
    assert np.allclose(msd_fft(x), direct)


def test_fft_msd_equals_tidynamics():
    tidynamics = pytest.importorskip("tidynamics")
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.normal(size=(400, 6, 3)), axis=0)
    reference = np.mean([tidynamics.msd(x[:, i]) for i in range(x.shape[1])], axis=0)
    assert np.allclose(msd_fft(x), reference)


def test_random_walk_gives_its_diffusion_coefficient():
    rng = np.random.default_rng(2)
    dt_ps, sigma_A = 0.01, 0.05  # per-component step → D = σ²/(2Δt) = 0.125 Å²/ps = 1.25e-9 m²/s
    x = np.cumsum(rng.normal(scale=sigma_A, size=(2000, 200, 3)), axis=0)
    t = np.arange(2000) * dt_ps
    assert diffusion_coefficient(t, msd_fft(x), (1.0, 5.0)) == pytest.approx(1.25, rel=0.05)


def test_a_ballistic_trajectory_is_flagged_as_not_diffusive_and_a_random_walk_is_not():
    rng = np.random.default_rng(3)
    t = np.arange(2000) * 0.01
    walk = np.cumsum(rng.normal(scale=0.05, size=(2000, 200, 3)), axis=0)
    ballistic = t[:, None, None] * rng.normal(scale=1.0, size=(1, 200, 3))  # constant velocities
    walk_slope, ballistic_slope = (msd_loglog_slope(t, msd_fft(x), (1.0, 5.0)) for x in (walk, ballistic))
    assert walk_slope == pytest.approx(1.0, abs=0.05) and ballistic_slope == pytest.approx(2.0, abs=1e-6)
    assert not why_not_diffusive(walk_slope, (1.0, 5.0), min_window_ps=2.0)
    assert why_not_diffusive(ballistic_slope, (1.0, 5.0), min_window_ps=2.0)
    assert why_not_diffusive(walk_slope, (1.0, 5.0), min_window_ps=10.0)  # a window too short for the setting


def test_constructed_proton_transfer_moves_the_defect_by_one_hop():
    box = np.array([10.0] * 3)
    o = np.array([[[1.0, 5, 5], [3.5, 5, 5], [9.5, 5, 5]]] * 3)  # static oxygens
    counts = np.array([[1, 2, 2], [2, 1, 2], [2, 2, 1]])  # OH⁻ hops 0 → 1 → 2
    track, hosts = hydroxide_defect_trajectories(o, counts, box)
    assert track.shape == (3, 1, 3) and hosts[:, 0].tolist() == [0, 1, 2]
    assert np.allclose(track[:, 0, 0], [1.0, 3.5, -0.5])  # the second hop crosses the boundary: 3.5 → 9.5 ≡ -0.5


def test_rattling_is_not_a_transfer_but_a_settled_hop_is():
    # host oxygen per frame of one defect: 0 rattles to 1 for 2 frames, then moves to 2 for good
    hosts = np.array([[0, 0, 0, 1, 1, 0, 0, 0, 2, 2, 2, 2, 2]]).T
    assert persistent_transfers(hosts, persistence_frames=3) == 1
    assert persistent_transfers(hosts, persistence_frames=1) == 3


def test_hbond_correlation_functions():
    # bond 1 is always present; bond 2 breaks at frame 2 and comes back at frame 3
    keys = [np.array([1, 2]), np.array([1, 2]), np.array([1]), np.array([1, 2])]
    c_i, c_c = hbond_correlations(keys, max_lag=3, origin_stride=10)
    assert c_i.tolist() == [1.0, 1.0, 0.5, 1.0]
    assert c_c.tolist() == [1.0, 1.0, 0.5, 0.5]


def test_yeh_hummer_and_nernst_einstein_values():
    # ξ k_B T / (6π η L) for water (0.89 mPa s) at 298.15 K in a 20 Å box: 0.348e-9 m²/s
    assert yeh_hummer_correction(298.15, 0.89, 20.0) == pytest.approx(0.3481, rel=1e-3)
    # 1 mol/L of a 1:1 salt: σ = F² c (D+ + D−) / (R T)
    volume_A3 = 1e27 / 6.02214076e23  # one ion pair per 1/N_A litre
    faraday, gas = 96485.33212, 8.314462618
    expected = faraday**2 * 1000 * (2.0 + 5.0) * 1e-9 / (gas * 298.15)
    assert nernst_einstein_conductivity_S_per_m(1, volume_A3, 298.15, 2.0, 5.0) == pytest.approx(expected, rel=1e-6)


def test_gilliam_conductivity_inside_its_range_only_and_reference_data():
    koh = Hydroxide("K")
    # 30 wt % KOH (6.9 mol/L) at 25 °C conducts about 0.62 S/cm
    assert koh.conductivity_S_per_m(6.9, 298.15) == pytest.approx(62.1, abs=0.5)
    assert np.isnan(koh.conductivity_S_per_m(17.98, 298.15))  # fitted to 12 mol/L: no value beyond it
    assert np.isnan(Hydroxide("Na").conductivity_S_per_m(3.0, 298.15))  # none known
    assert koh.infinite_dilution_diffusion()["K+"]["value"] == 1.957
    assert Hydroxide("Na").infinite_dilution_diffusion()["Na+"]["value"] == 1.334


def jittered_frames(n_frames, seed=0, scale=0.02):
    composition = Composition(3, 29, "K")
    atoms = build_box(composition, cubic_box_length_A(composition), seed=5)
    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(n_frames):
        frame = atoms.copy()
        frame.positions += rng.normal(scale=scale, size=frame.positions.shape)
        frames.append(frame)
    return frames


def test_solution_analysis_on_a_jittered_box():
    analysis = SolutionAnalysis(
        frame_interval_ps=0.01,
        cation="K",
        diffusion_window_ps=(0.02, 0.04),
        n_blocks=2,
        viscosity_mPa_s=1.0,
        skip_frames=2,
    ).run(chunks_from_atoms(jittered_frames(12), chunk_frames=5))
    per_frame = analysis.results["frames"]
    assert len(per_frame) == 10 and (per_frame["n_OH-"] == 3).all() and per_frame["charge_balanced"].all()
    diffusion = analysis.results["diffusion"]
    assert set(diffusion["species"]) == {"K+", "OH-", "O", "H"}
    measured = diffusion["D_1e-9_m2_per_s"].notna()  # jitter about fixed sites: the MSD may not grow
    assert (diffusion["D_1e-9_m2_per_s"][measured] > 0).all() and diffusion["D_error_1e-9_m2_per_s"][
        measured
    ].notna().all()
    assert (diffusion["D_yeh_hummer_1e-9_m2_per_s"] > diffusion["D_1e-9_m2_per_s"])[measured].all()
    assert diffusion["not_diffusive_because"][~measured].str.contains("does not grow").all()
    assert not diffusion["diffusive"].any() and diffusion["not_diffusive_because"].str.len().gt(0).all()
    summary = analysis.results["hbonds"].iloc[0]
    assert summary["mean_n_OH-"] == 3 and summary["proton_transfers"] == 0
    assert {"g_O*-O*", "cn_K-O"} <= set(analysis.results["rdf"].columns)
    assert {"cation_coordination_water", "cation_coordination_OH-"} <= set(analysis.results["hbonds"].columns)


def test_cutoff_beyond_half_box_is_refused():
    with pytest.raises(ValueError, match="half the box"):
        SolutionAnalysis(frame_interval_ps=0.01, cation="K", cation_o_cutoff_A=5.0).run(
            chunks_from_atoms(jittered_frames(2))
        )


def test_any_alkali_cation_is_analysed_under_its_own_name():
    frames = []
    for frame in jittered_frames(4):
        frame.symbols[frame.symbols == "K"] = "Na"
        frames.append(frame)
    analysis = SolutionAnalysis(frame_interval_ps=0.01, cation="Na", cation_o_cutoff_A=3.2).run(
        chunks_from_atoms(frames)
    )
    assert set(analysis.results["diffusion"]["species"]) == {"Na+", "OH-", "O", "H"}
    assert "g_Na-O" in analysis.results["rdf"].columns and analysis.results["rdf"]["cn_Na-O"].iloc[-1] > 0


def test_hydrogen_bonds_agree_with_mdanalysis():
    mda = pytest.importorskip("MDAnalysis")
    from MDAnalysis.analysis.hydrogenbonds import HydrogenBondAnalysis

    frames = jittered_frames(10, scale=0.07)  # O–H bonds stay below MDAnalysis' donor–H cutoff
    n_atoms = len(frames[0])
    universe = mda.Universe.empty(n_atoms, trajectory=True)
    universe.add_TopologyAttr("name", frames[0].get_chemical_symbols())
    universe.add_TopologyAttr("type", frames[0].get_chemical_symbols())
    universe.load_new(np.array([f.positions for f in frames], dtype=np.float32), order="fac")
    for ts in universe.trajectory:
        ts.dimensions = [*frames[0].cell.lengths(), 90, 90, 90]
    hba = HydrogenBondAnalysis(
        universe,
        donors_sel="name O",
        hydrogens_sel="name H",
        acceptors_sel="name O",
        d_a_cutoff=3.5,
        d_h_a_angle_cutoff=150,
        d_h_cutoff=1.3,
        update_selections=False,
    )
    hba.run()
    criterion = HBondCriterion(angle_cutoff_deg=None, donor_hydrogen_acceptor_min_angle_deg=150)
    o_atoms = np.flatnonzero(frames[0].numbers == 8)
    h_atoms = np.flatnonzero(frames[0].numbers == 1)
    positions = np.array([f.positions for f in frames])
    index = kind_index(np.asarray(frames[0].symbols), "K")
    g = ChunkGeometry.of(positions, index, frames[0].cell.lengths(), 3.5)
    ours = {(t, o_atoms[d], h_atoms[h], o_atoms[a]) for t, d, h, a in hydrogen_bonds(g, criterion)}
    theirs = {(int(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in hba.results.hbonds}
    assert len(ours) > 30  # a packed (unrelaxed) box: fewer H-bonds than liquid water
    assert ours == theirs


def chunked_bonds(positions, index, box, criterion):
    """(frame, donor, H, acceptor) rows over a whole trajectory analysed as one chunk, and its pieces."""
    rows, pieces = [], 0
    for start, g in chunk_geometries(positions, index, box, criterion.donor_acceptor_cutoff_A):
        bonds = hydrogen_bonds(g, criterion)
        rows += [(start + f, d, h, a) for f, d, h, a in bonds]
        pieces += 1
    return set(rows), pieces


def test_chunk_split_where_an_oxygen_leaves_the_skin_gives_frame_by_frame_results():
    frames = jittered_frames(12, scale=0.05)
    positions = np.array([f.positions for f in frames])
    symbols = frames[0].symbols
    index = kind_index(np.asarray(symbols), "K")
    box = frames[0].cell.lengths()
    criterion = HBondCriterion()
    # a water hydrogen swings 1.6 Å (a libration or a hop): H owners are checked per frame, no split
    h = index["H"][5]
    positions[4:, h] += [1.6, 0.0, 0.0]
    whole, pieces = chunked_bonds(positions, index, box, criterion)
    assert pieces == 1
    # an oxygen moves 1.8 Å (more than half the 2 Å skin) from frame 7 on: the chunk splits there
    positions[7:, index["O"][3]] += [0.0, 1.8, 0.0]
    whole, pieces = chunked_bonds(positions, index, box, criterion)
    assert pieces == 2
    frame_by_frame = {
        (t, d, hh, a) for t in range(len(positions))
        for _, d, hh, a in hydrogen_bonds(ChunkGeometry.of(positions[t], index, box, 3.5), criterion)
    }  # fmt: skip
    assert whole == frame_by_frame and len(whole) > 100


def test_block_error_of_a_ratio():
    # two blocks with per-OH⁻ ratios 1.0 and 3.0: mean 2, standard error |3 − 1| / 2 = 1
    numerator, denominator = np.array([2.0, 2.0, 6.0, 6.0]), np.array([2.0, 2.0, 2.0, 2.0])
    assert block_ratio_error(numerator, denominator, 2) == pytest.approx(1.0)
    assert np.isnan(block_ratio_error(numerator, denominator, 1))


def test_a_run_that_stopped_before_the_diffusion_fit_window_has_no_diffusion_coefficient():
    atoms = build_box(Composition(3, 29, "K"), 10.5, seed=5)
    analysis = SolutionAnalysis(frame_interval_ps=0.01, cation="K", diffusion_window_ps=(0.05, 0.1))
    diffusion = analysis.run(chunks_from_atoms([atoms] * 6)).results["diffusion"]
    assert diffusion["msd_points_in_fit"].eq(1).all() and diffusion["D_1e-9_m2_per_s"].isna().all()
    assert not diffusion["diffusive"].any()


def test_a_trajectory_that_begins_mid_rattle_counts_no_transfer():
    # the proton sits on neighbour 1 for the first frame only, then the defect stays on 0: no transfer
    hosts = np.array([[1, 0, 0, 0, 0, 0, 0, 0]]).T
    assert persistent_transfers(hosts, persistence_frames=5) == 0
    assert settled_hosts(hosts, persistence_frames=5)[:, 0].tolist() == [0] * 8
