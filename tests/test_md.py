import h5py
import numpy as np
import pytest
from ase.calculators.lj import LennardJones

from mlip_transfer.analysis import read_chunks
from mlip_transfer.box import Composition, build_box, cubic_box_length_A
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
        run_nvt(
            box,
            LennardJones(),
            tmp_path / "x.h5",
            temperature_K=300,
            timestep_fs=0.5,
            steps=1,
            write_interval=1,
            thermostat={"type": "berendsen"},
            seed=1,
        )
