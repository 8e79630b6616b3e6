import numpy as np
import pytest
from ase.calculators.lj import LennardJones
from ase.io import Trajectory

from mlip_transfer.box import Composition, build_box, cubic_box_length_A
from mlip_transfer.md import run_nvt


@pytest.mark.parametrize(
    "thermostat", [{"type": "bussi", "time_constant_fs": 20.0}, {"type": "langevin", "friction_per_fs": 0.01}]
)
def test_nvt_writes_every_interval_with_unwrapped_positions(tmp_path, thermostat):
    composition = Composition(1, 8)
    atoms = build_box(composition, cubic_box_length_A(composition), seed=1)
    calculator = LennardJones(sigma=1.0, epsilon=0.001, rc=3.0)
    path = tmp_path / "md.traj"
    n = run_nvt(
        atoms,
        calculator,
        path,
        temperature_K=300,
        timestep_fs=0.5,
        steps=20,
        write_interval=5,
        thermostat=thermostat,
        seed=1,
    )
    with Trajectory(path) as traj:
        frames = list(traj)
    assert n == len(frames) == 5
    assert np.isfinite(frames[-1].get_potential_energy())
    assert not np.allclose(frames[0].positions, frames[-1].positions)


def test_unknown_thermostat_is_named(tmp_path):
    atoms = build_box(Composition(1, 8), cubic_box_length_A(Composition(1, 8)), seed=1)
    with pytest.raises(ValueError, match="md.thermostat.type"):
        run_nvt(
            atoms,
            LennardJones(),
            tmp_path / "x.traj",
            temperature_K=300,
            timestep_fs=0.5,
            steps=1,
            write_interval=1,
            thermostat={"type": "berendsen"},
            seed=1,
        )
