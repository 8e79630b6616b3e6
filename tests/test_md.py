import h5py
import numpy as np
import pytest
from ase import units
from ase.calculators.lj import LennardJones

from conftest import GUARDS, run_md
from mlip_transfer.dynamics import trajectory
from mlip_transfer.dynamics.ase_engine import RunSettings
from mlip_transfer.files import partial_path
from mlip_transfer.reference.box import Composition, build_box, cubic_box_length_A


@pytest.fixture
def box():
    return build_box(Composition(1, 8, "K"), cubic_box_length_A(Composition(1, 8, "K")), seed=1)


@pytest.mark.parametrize(
    "thermostat", [{"type": "bussi", "time_constant_fs": 20.0}, {"type": "langevin", "friction_per_fs": 0.01}]
)
def test_nvt_writes_h5md_every_interval_with_unwrapped_positions(tmp_path, box, thermostat):
    path = tmp_path / "md.h5"
    n = run_md(box, path, steps=20, write_interval=5, thermostat=thermostat)
    frames = trajectory.read(path)
    positions = frames.positions_A
    assert n == len(positions) == 5 and positions.dtype == np.float64
    assert np.array_equal(frames.species, box.numbers) and np.allclose(frames.box_edges_A, box.cell.lengths())
    assert np.allclose(positions[0], box.positions)
    assert not np.allclose(positions[0], positions[-1])
    assert frames.steps.tolist() == [0, 5, 10, 15, 20] and frames.times_ps[-1] == pytest.approx(0.01)
    assert np.isfinite(frames.potential_energy_eV).all()
    # velocities in Å/ps: their kinetic temperature is the stored temperature
    kinetic_eV = 0.5 * (
        box.get_masses()[:, None] * (frames.velocities_A_per_ps / trajectory.ASE_VELOCITY_IN_A_PER_PS) ** 2
    ).sum((1, 2))
    assert kinetic_eV / (1.5 * len(box) * units.kB) == pytest.approx(frames.temperature_K, rel=1e-9)
    chunks = list(trajectory.read_chunks(path, chunk_frames=2))
    assert [len(c.positions) for c in chunks] == [2, 2, 1] and list(chunks[0].symbols[:2]) == ["K", "O"]


def test_unknown_thermostat_is_named(tmp_path, box):
    with pytest.raises(ValueError, match="md.thermostat.type"):
        run_md(box, tmp_path / "x.h5", LennardJones(), thermostat={"type": "berendsen"})


def test_interrupted_run_resumes_exactly_and_keeps_frames_once(tmp_path, box):
    settings = dict(write_interval=5, seed=3)
    run_md(box, tmp_path / "whole.h5", steps=40, **settings)
    # an interrupted run leaves its partial file: 20 of 40 steps, and a frame cut off between datasets
    run_md(box, tmp_path / "cut.h5", steps=20, **settings)
    (tmp_path / "cut.h5").replace(partial_path(tmp_path / "cut.h5"))
    with h5py.File(partial_path(tmp_path / "cut.h5"), "a") as f:
        value = f[trajectory.POSITION]["value"]
        value.resize(value.shape[0] + 1, axis=0)
    assert trajectory.frame_count(partial_path(tmp_path / "cut.h5")) == 5  # up to the last whole frame
    assert [len(c.positions) for c in trajectory.read_chunks(partial_path(tmp_path / "cut.h5"), 4)] == [4, 1]
    n = run_md(box, tmp_path / "cut.h5", steps=40, **settings)
    assert trajectory.read(tmp_path / "cut.h5").steps.tolist() == [0, 5, 10, 15, 20, 25, 30, 35, 40]
    assert n == 9 and not (partial_path(tmp_path / "cut.h5")).exists()
    whole, cut = trajectory.read(tmp_path / "whole.h5"), trajectory.read(tmp_path / "cut.h5")
    assert np.abs(whole.positions_A - cut.positions_A).max() < 1e-12


def test_unphysical_md_stops_and_keeps_the_good_frames(tmp_path, box):
    from mlip_transfer.dynamics.ase_engine import MDError
    from mlip_transfer.limits import SanityLimits

    hot = SanityLimits(max_temperature_K=350.0, min_distance_A=0.6)
    with pytest.raises(MDError, match=r"temperature \d+ K exceeds md.max_temperature_K = 350"):
        run_md(
            box,
            tmp_path / "hot.h5",
            LennardJones(sigma=2.5, epsilon=0.5, rc=5.0),
            steps=200,
            thermostat={"type": "bussi", "time_constant_fs": 1000.0},
            limits=hot,
        )
    kept = trajectory.read(partial_path(tmp_path / "hot.h5")).positions_A
    assert not (tmp_path / "hot.h5").exists() and np.isfinite(kept).all()
    with pytest.raises(MDError, match="two atoms are 0.9"):
        run_md(box, tmp_path / "close.h5", LennardJones(), limits=SanityLimits(2000.0, min_distance_A=1.2))


def test_an_unstable_run_can_end_kept_and_flagged_instead_of_failing(tmp_path, box):
    from mlip_transfer.limits import SanityLimits

    n = run_md(
        box,
        tmp_path / "hot.h5",
        LennardJones(sigma=2.5, epsilon=0.5, rc=5.0),
        steps=200,
        thermostat={"type": "bussi", "time_constant_fs": 1000.0},
        limits=SanityLimits(max_temperature_K=350.0, min_distance_A=0.6),
        keep_unstable=True,
    )
    assert (tmp_path / "hot.h5").exists() and not (partial_path(tmp_path / "hot.h5")).exists()
    assert 0 < n == trajectory.frame_count(tmp_path / "hot.h5")
    assert "exceeds md.max_temperature_K = 350" in trajectory.stop_reason(tmp_path / "hot.h5")
    complete = run_md(box, tmp_path / "calm.h5", LennardJones(sigma=1.0, epsilon=0.001, rc=3.0), keep_unstable=True)
    assert complete == 2 and trajectory.stop_reason(tmp_path / "calm.h5") == ""


def test_a_jobs_run_settings_come_from_its_md_settings_and_launch_record():
    from mlip_transfer.dynamics.catalogue import MDSettings
    from mlip_transfer.launch import Device, MDLaunch

    settings = MDSettings(
        engine="ase", steps=40, timestep_fs=0.5, write_interval=2, thermostat={"type": "bussi", "time_constant_fs": 20},
        temperature_K=300.0, start_frame=-1, seed=7, default_dtype="float64",
    )  # fmt: skip
    run = RunSettings.of_job(settings, MDLaunch(Device("cpu", False), GUARDS, keep_unstable_runs=True))
    assert (run.timestep_fs, run.steps, run.write_interval, run.seed) == (0.5, 40, 2, 7)
    assert run.thermostat["time_constant_fs"] == 20 and run.limits == GUARDS and run.keep_unstable
