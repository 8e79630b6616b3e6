"""Transport that holds at high concentration: conserved oxygens, defects through count mismatches, drift-free
MSDs and a collective conductivity, on constructed random walks of known D."""

import numpy as np
import pytest

from mlip_transfer.analysis.hbonds import hydroxide_defect_trajectories
from mlip_transfer.analysis.piece import Piece
from mlip_transfer.analysis.transport import Transport

BOX = np.array([30.0] * 3)
DT_PS = 0.01  # frame interval
STEP_A = 0.05  # per-coordinate random-walk step: D = STEP² / (2 Δt) = 0.125 Å²/ps = 1.25e-9 m²/s
D_TRUE = STEP_A**2 / (2 * DT_PS) * 10.0


def random_walk(rng, frames, particles):
    return np.cumsum(rng.normal(0.0, STEP_A, (frames, particles, 3)), axis=0) + rng.uniform(0, 30, (1, particles, 3))


def transport_of(m, o, h, counts, blocks=8, persistence_ps=0.0, table="diffusion"):
    """A table of Transport concluded on constructed trajectories of cations ``m``, oxygens ``o``, hydrogens
    ``h`` (the diffusion table by species)."""
    positions = np.concatenate([m, o, h], axis=1)
    n_m, n_o = m.shape[1], o.shape[1]
    index = {"M": np.arange(n_m), "O": n_m + np.arange(n_o), "H": n_m + n_o + np.arange(h.shape[1])}
    transport = Transport(BOX, DT_PS, 300.0, (0.5, 3.0), 0.0, blocks, None, "K", 0.05, persistence_ps)
    for start in range(0, len(positions), 500):  # fed in pieces, as the driver does
        piece = slice(start, start + 500)
        frames = np.arange(len(positions))[piece]
        transport.accumulate(Piece(positions[piece], None, counts[piece], frames, index))
    result = transport.conclude({})[table]
    return result.set_index("species") if table == "diffusion" else result


def test_oxygens_alternating_between_water_and_hydroxide_give_their_d():
    """Every oxygen hosts the OH⁻ part of the time (no oxygen is water throughout): D of all oxygens is still
    the oxygens' D, where the old "always water" subset would be empty."""
    rng = np.random.default_rng(0)
    frames, n_o = 4000, 20
    o = random_walk(rng, frames, n_o)
    counts = np.full((frames, n_o), 2)
    counts[np.arange(frames), np.arange(frames) % n_o] = 1  # the OH⁻ visits every oxygen in turn
    table = transport_of(random_walk(rng, frames, 2), o, random_walk(rng, frames, 39), counts)
    d, error = table.loc["O", ["D_1e-9_m2_per_s", "D_error_1e-9_m2_per_s"]]
    assert table.loc["O", "particles"] == "all oxygens" and table.loc["O", "n_particles"] == n_o
    assert abs(d - D_TRUE) < 4 * error and error < 0.1 * D_TRUE


def test_a_defect_keeps_moving_with_its_host_through_count_mismatch_frames():
    """One OH⁻ on oxygen 0 while transient extra OH⁻ appear elsewhere: its trajectory is its host's."""
    rng = np.random.default_rng(1)
    o = random_walk(rng, 200, 6) % 30.0  # wrapped, as a trajectory may be
    counts = np.full((200, 6), 2)
    counts[:, 0] = 1
    counts[50:60, 3] = 1  # a transient second OH⁻ (and its H₃O⁺ partner)
    counts[50:60, 4] = 3
    counts[120:125, 5] = 1
    track, hosts = hydroxide_defect_trajectories(o, counts, BOX)
    true = np.cumsum(np.concatenate([[o[0, 0]], ((o[1:, 0] - o[:-1, 0] + 15) % 30) - 15]), axis=0)
    assert (hosts[:, 0] == 0).all() and np.allclose(track[:, 0], true)


def test_centre_of_mass_drift_is_removed_before_the_msd():
    rng = np.random.default_rng(2)
    frames = 3000
    m, o, h = random_walk(rng, frames, 4), random_walk(rng, frames, 40), random_walk(rng, frames, 76)
    counts = np.full((frames, 40), 2)
    counts[:, :4] = 1
    still = transport_of(m, o, h, counts)
    drift = 0.02 * np.arange(frames)[:, None, None] * np.array([1.0, 0.5, 0.0])  # 2 Å/ps: ballistic
    drifting = transport_of(m + drift, o + drift, h + drift, counts)
    for species in ("K+", "O", "H", "OH-"):
        assert drifting.loc[species, "D_1e-9_m2_per_s"] == pytest.approx(still.loc[species, "D_1e-9_m2_per_s"])


def test_einstein_helfand_equals_nernst_einstein_for_uncorrelated_ions():
    rng = np.random.default_rng(3)
    frames, n_ions = 6000, 12
    m, o, h = random_walk(rng, frames, n_ions), random_walk(rng, frames, 60), random_walk(rng, frames, 108)
    counts = np.full((frames, 60), 2)
    counts[:, :n_ions] = 1  # static hydroxides: each OH⁻ is its oxygen, walking independently
    table = transport_of(m, o, h, counts, blocks=10)
    eh, eh_error, ne = table.iloc[0][
        ["einstein_helfand_S_per_m", "einstein_helfand_error_S_per_m", "nernst_einstein_S_per_m"]
    ]
    assert eh_error > 0 and abs(eh - ne) < 3 * eh_error
    assert table.iloc[0]["einstein_helfand_over_nernst_einstein"] == pytest.approx(eh / ne)


def test_a_rattling_proton_moves_no_hydroxide_only_a_settled_transfer_does():
    """The OH⁻ on oxygen 0 lends its proton to oxygen 1, 2.5 Å away, for 2 frames in every 20, and from frame
    1510 on stays on oxygen 1 (one transfer). With a persistence of 5 frames the rattling moves nothing: the
    defect's short-time MSD is its host oxygen's; taken frame by frame it would hop 2.5 Å each way."""
    rng = np.random.default_rng(4)
    frames = 2000
    host = random_walk(rng, frames, 1)
    o = np.concatenate([host, host + np.array([2.5, 0.0, 0.0])], axis=1)
    counts = np.tile([1, 2], (frames, 1))
    rattling = (np.arange(frames) % 20 >= 18) & (np.arange(frames) < 1500)
    counts[rattling | (np.arange(frames) >= 1510)] = [2, 1]
    settled, hosts = hydroxide_defect_trajectories(o, counts, BOX, persistence_frames=5)
    instantaneous, _ = hydroxide_defect_trajectories(o, counts, BOX, persistence_frames=1)
    assert hosts[rattling, 0].tolist() == [1] * rattling.sum()  # the instantaneous host does rattle
    assert np.allclose(settled[:1510, 0], host[:1510, 0])  # but the settled defect stays on oxygen 0
    assert np.allclose(settled[1510:, 0] - host[1510:, 0], [2.5, 0.0, 0.0])  # one hop, for good
    msd_host, msd_settled, msd_instantaneous = (
        np.mean(np.sum((x[1:1500] - x[:1499]) ** 2, axis=-1)) for x in (host, settled, instantaneous)
    )
    assert msd_settled == pytest.approx(msd_host) and msd_instantaneous > 20 * msd_host
    h = random_walk(rng, frames, 3)
    settled_msd, instantaneous_msd = (
        transport_of(host, o, h, counts, persistence_ps=p, table="msd")["msd_OH-_A2"] for p in (5 * DT_PS, 0.0)
    )  # through the analysis, as the workflow runs it
    assert instantaneous_msd[1] > 20 * settled_msd[1]


def test_a_falling_msd_gives_no_diffusion_coefficient_and_says_why():
    """Atoms vibrating about fixed sites with a 0.4 ps period: between lags of 0.25 and 0.35 ps the MSD falls,
    and a linear fit there would give D < 0 (and σ < 0). Neither is reported; the table says why."""
    frames = 400
    phase = np.sin(2 * np.pi * np.arange(frames) * DT_PS / 0.4)[:, None, None]
    sites = np.random.default_rng(5).uniform(0, 30, (1, 24, 3))
    sign = np.tile([1.0, -1.0], 12)[None, :, None]  # half of each species against the other: no drift
    positions = sites + 0.3 * sign * phase * np.array([1.0, 0.0, 0.0])
    counts = np.full((frames, 10), 2)
    counts[:, :2] = 1
    m, o, h = positions[:, :2], positions[:, 2:12], positions[:, 12:]
    transport = Transport(BOX, DT_PS, 300.0, (0.25, 0.35), 0.0, 2, None, "K", 0.05)
    transport.accumulate(Piece(np.concatenate([m, o, h], axis=1), None, counts, np.arange(frames), {
        "M": np.arange(2), "O": 2 + np.arange(10), "H": 12 + np.arange(12)}))  # fmt: skip
    table = transport.conclude({})["diffusion"].set_index("species")
    assert table["D_1e-9_m2_per_s"].isna().all() and not table["diffusive"].any()
    assert table["not_diffusive_because"].str.contains("does not grow").all()
    assert np.isnan(table["nernst_einstein_S_per_m"]).all() and not (table["einstein_helfand_S_per_m"] < 0).any()
