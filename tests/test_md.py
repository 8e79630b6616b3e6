import h5py
import numpy as np
import pytest
from ase.calculators.lj import LennardJones

from conftest import GUARDS, run_md
from mlip_transfer.box import Composition, build_box, cubic_box_length_A
from mlip_transfer.geometry import read_chunks
from mlip_transfer.md import read_h5md, run_nvt


@pytest.fixture
def box():
    return build_box(Composition(1, 8), cubic_box_length_A(Composition(1, 8)), seed=1)


@pytest.mark.parametrize(
    "thermostat", [{"type": "bussi", "time_constant_fs": 20.0}, {"type": "langevin", "friction_per_fs": 0.01}]
)
def test_nvt_writes_h5md_every_interval_with_unwrapped_positions(tmp_path, box, thermostat):
    path = tmp_path / "md.h5"
    n = run_nvt(
        box,
        LennardJones(sigma=1.0, epsilon=0.001, rc=3.0),
        path,
        temperature_K=300,
        timestep_fs=0.5,
        steps=20,
        write_interval=5,
        thermostat=thermostat,
        seed=1,
        limits=GUARDS,
    )
    numbers, edges, positions = read_h5md(path)
    assert n == len(positions) == 5 and positions.dtype == np.float64
    assert np.array_equal(numbers, box.numbers) and np.allclose(edges, box.cell.lengths())
    assert np.allclose(positions[0], box.positions)
    assert not np.allclose(positions[0], positions[-1])
    with h5py.File(path) as f:  # H5MD layout, readable by other tools
        assert f["particles/all/position/step"][:].tolist() == [0, 5, 10, 15, 20]
        assert f["particles/all/position/time"][-1] == pytest.approx(0.01)
        assert np.isfinite(f["observables/potential_energy/value"][:]).all()
    chunks = list(read_chunks(path, chunk_frames=2))
    assert [len(c.positions) for c in chunks] == [2, 2, 1] and list(chunks[0].symbols[:2]) == ["K", "O"]


def test_unknown_thermostat_is_named(tmp_path, box):
    with pytest.raises(ValueError, match="md.thermostat.type"):
        run_md(box, tmp_path / "x.h5", LennardJones(), thermostat={"type": "berendsen"})


def test_interrupted_run_resumes_exactly_and_keeps_frames_once(tmp_path, box):
    settings = dict(
        temperature_K=300,
        timestep_fs=0.5,
        write_interval=5,
        thermostat={"type": "bussi", "time_constant_fs": 20.0},
        seed=3,
        limits=GUARDS,
    )
    run_nvt(box, LennardJones(sigma=1.0, epsilon=0.001, rc=3.0), tmp_path / "whole.h5", steps=40, **settings)
    # an interrupted run leaves its partial file: 20 of 40 steps, and a frame cut off between datasets
    run_nvt(box, LennardJones(sigma=1.0, epsilon=0.001, rc=3.0), tmp_path / "cut.h5", steps=20, **settings)
    (tmp_path / "cut.h5").replace(tmp_path / "cut.h5.partial")
    with h5py.File(tmp_path / "cut.h5.partial", "a") as f:
        value = f["particles/all/position/value"]
        value.resize(value.shape[0] + 1, axis=0)
    assert read_h5md(tmp_path / "cut.h5.partial")[2].shape[0] == 5  # read up to the last whole frame
    n = run_nvt(box, LennardJones(sigma=1.0, epsilon=0.001, rc=3.0), tmp_path / "cut.h5", steps=40, **settings)
    with h5py.File(tmp_path / "cut.h5") as f:
        assert f["particles/all/position/step"][:].tolist() == [0, 5, 10, 15, 20, 25, 30, 35, 40]
    assert n == 9 and not (tmp_path / "cut.h5.partial").exists()
    assert np.abs(read_h5md(tmp_path / "whole.h5")[2] - read_h5md(tmp_path / "cut.h5")[2]).max() < 1e-12


def test_unphysical_md_stops_and_keeps_the_good_frames(tmp_path, box):
    from mlip_transfer.md import MDError, SanityLimits

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
    kept = read_h5md(tmp_path / "hot.h5.partial")[2]
    assert not (tmp_path / "hot.h5").exists() and np.isfinite(kept).all()
    with pytest.raises(MDError, match="two atoms are 0.9"):
        run_md(box, tmp_path / "close.h5", LennardJones(), limits=SanityLimits(2000.0, min_distance_A=1.2))
