"""The fast MD engine (torch-sim) against the reference path (ASE + MACECalculator), on CPU."""

import h5py
import numpy as np
import pytest
import torch
from ase import Atoms
from ase.calculators.lj import LennardJones

from conftest import md_run
from mlip_transfer.dynamics import torch_sim_engine, trajectory
from mlip_transfer.dynamics.ase_engine import MDError, run_nvt
from mlip_transfer.files import partial_path
from mlip_transfer.limits import SanityLimits
from mlip_transfer.models.mace import load_calculator, random_model
from mlip_transfer.reference.box import Composition, build_box, cubic_box_length_A

BUSSI = {"type": "bussi", "time_constant_fs": 20.0}
LOOSE = SanityLimits(max_temperature_K=5000.0, min_distance_A=0.1)  # random weights let O–H bonds stretch


@pytest.fixture(scope="module")
def mace_file(tmp_path_factory):
    return random_model(
        tmp_path_factory.mktemp("model") / "random.model", channels=8, max_L=1, correlation=2, r_max_A=4.0
    )


def boxes():
    return [
        build_box(c, cubic_box_length_A(c), seed=i)
        for i, c in enumerate([Composition(1, 14, "K"), Composition(3, 12, "K")])
    ]


def positions(path):
    frames = trajectory.read(path)
    return frames.steps, frames.positions_A


def test_energies_and_forces_equal_the_ase_calculator(mace_file):
    frames = boxes()
    frames.append(frames[1].copy())
    frames[2].rattle(0.05, seed=2)  # a third, distorted frame in the same batch
    state = torch_sim_engine.md_state(torch_sim_engine.load_model(mace_file, "cpu", "float64"), frames)
    calculator = load_calculator(mace_file, "cpu", "float64")
    for i, frame in enumerate(frames):
        frame.calc = calculator
        energy, forces = frame.get_potential_energy(), frame.get_forces()
        assert float(state.energy[i]) == pytest.approx(energy, rel=1e-6)
        batch_forces = state.forces[state.system_idx == i].detach().numpy()
        assert np.abs(batch_forces - forces).max() <= 1e-6 * np.abs(forces).max()


def test_each_box_of_a_batch_equals_its_run_alone(mace_file, tmp_path):
    # a thermostat so weak (τ = 10³⁰ fs: exp(−Δt/τ) is 1 in float64) that the dynamics is deterministic:
    # batched and alone must then give the same trajectory, although they draw different random numbers
    model = torch_sim_engine.load_model(mace_file, "cpu", "float64")
    weak = {"type": "bussi", "time_constant_fs": 1e30}
    settings = md_run(steps=20, write_interval=5, thermostat=weak, seed=4, limits=LOOSE)
    batch = [tmp_path / "batch0.h5", tmp_path / "batch1.h5"]
    torch_sim_engine.run_nvt_batch(boxes(), model, batch, temperatures_K=[300, 350], run=settings)
    for box, temperature, path in zip(boxes(), [300, 350], batch, strict=True):
        alone = tmp_path / f"alone_{temperature}.h5"
        torch_sim_engine.run_nvt_batch([box], model, [alone], temperatures_K=[temperature], run=settings)
        steps, batched = positions(path)
        assert steps.tolist() == [0, 5, 10, 15, 20]
        assert np.abs(positions(alone)[1] - batched).max() < 1e-8
        assert not np.allclose(batched[0], batched[-1])


def test_output_is_the_reference_paths_h5md(mace_file, tmp_path):
    model = torch_sim_engine.load_model(mace_file, "cpu", "float64")
    box = boxes()[0]
    settings = md_run(steps=10, write_interval=5, thermostat=BUSSI, seed=1, limits=LOOSE)
    torch_sim_engine.run_nvt_batch([box], model, [tmp_path / "ts.h5"], temperatures_K=[300], run=settings)
    run_nvt(box, load_calculator(mace_file, "cpu", "float64"), tmp_path / "ase.h5", temperature_K=300, run=settings)
    with h5py.File(tmp_path / "ts.h5") as fast, h5py.File(tmp_path / "ase.h5") as reference:
        names = set()
        reference.visit(names.add)
        for name in names:
            assert name in fast, name
            if isinstance(reference[name], h5py.Dataset):
                assert fast[name].shape == reference[name].shape and fast[name].dtype == reference[name].dtype
    # the same start: positions and Maxwell–Boltzmann velocities from the same seed
    fast, reference = trajectory.read(tmp_path / "ts.h5", stop=1), trajectory.read(tmp_path / "ase.h5", stop=1)
    assert np.allclose(fast.positions_A, reference.positions_A)
    assert np.allclose(fast.velocities_A_per_ps, reference.velocities_A_per_ps)
    assert [len(c.positions) for c in trajectory.read_chunks(tmp_path / "ts.h5", chunk_frames=2)] == [2, 1]


def test_a_killed_batch_resumes_exactly_from_the_last_frame_all_boxes_hold(mace_file, tmp_path):
    model = torch_sim_engine.load_model(mace_file, "cpu", "float64")
    settings = dict(write_interval=5, thermostat=BUSSI, seed=3, limits=LOOSE)
    temperatures = [300, 350]
    whole = [tmp_path / "whole0.h5", tmp_path / "whole1.h5"]
    torch_sim_engine.run_nvt_batch(boxes(), model, whole, temperatures_K=temperatures, run=md_run(steps=40, **settings))
    cut = [tmp_path / "cut0.h5", tmp_path / "cut1.h5"]
    torch_sim_engine.run_nvt_batch(boxes(), model, cut, temperatures_K=temperatures, run=md_run(steps=20, **settings))
    for path in cut:  # as a kill leaves them: partial files, the second one frame behind and a frame cut off
        path.replace(partial_path(path))
    with h5py.File(partial_path(cut[1]), "a") as f:
        for series in (trajectory.POSITION, trajectory.VELOCITY):
            f[series]["value"].resize(4, axis=0)
    torch_sim_engine.run_nvt_batch(boxes(), model, cut, temperatures_K=temperatures, run=md_run(steps=40, **settings))
    for a, b in zip(whole, cut, strict=True):
        steps, expected = positions(a)
        assert positions(b)[0].tolist() == steps.tolist() == list(range(0, 41, 5))
        assert np.abs(positions(b)[1] - expected).max() < 1e-10


def test_a_frame_breaking_a_guard_stops_the_batch_keeping_earlier_frames(mace_file, tmp_path):
    model = torch_sim_engine.load_model(mace_file, "cpu", "float64")
    with pytest.raises(MDError, match="two atoms are"):
        torch_sim_engine.run_nvt_batch(
            boxes(), model, [tmp_path / "a.h5", tmp_path / "b.h5"], temperatures_K=[300, 300],
            run=md_run(steps=200, write_interval=5, thermostat=BUSSI, seed=3, limits=SanityLimits(5000.0, 0.8)),
        )  # fmt: skip
    assert not (tmp_path / "a.h5").exists() and positions(partial_path(tmp_path / "a.h5"))[0][0] == 0


def lj_gas():
    grid = np.array(np.meshgrid(*[np.arange(4)] * 3)).reshape(3, -1).T * 7.0 + 1.0
    return Atoms("Ar64", positions=grid, cell=[28.0] * 3, pbc=True)


def temperature_statistics(path, blocks=10):
    """Mean and variance of the temperature (K, K²) with block standard errors."""
    t = trajectory.read(path).temperature_K[20:]  # the first 100 fs relax the lattice start
    parts = np.array_split(t, blocks)
    means, variances = np.array([p.mean() for p in parts]), np.array([p.var() for p in parts])
    error = np.sqrt(blocks - 1)
    return (t.mean(), means.std() / error), (t.var(), variances.std() / error)


@pytest.mark.parametrize(
    "thermostat", [BUSSI, {"type": "langevin", "friction_per_fs": 0.02}], ids=["bussi", "langevin"]
)
def test_thermostat_statistics_agree_with_the_ase_path(tmp_path, thermostat):
    from torch_sim.models.lennard_jones import LennardJonesModel

    settings = md_run(timestep_fs=2.0, steps=4000, write_interval=5, thermostat=thermostat, seed=1, limits=LOOSE)
    model = LennardJonesModel(sigma=3.4, epsilon=0.0104, cutoff=8.5, dtype=torch.float64)
    torch_sim_engine.run_nvt_batch([lj_gas()], model, [tmp_path / "fast.h5"], temperatures_K=[300], run=settings)
    run_nvt(
        lj_gas(), LennardJones(sigma=3.4, epsilon=0.0104, rc=8.5), tmp_path / "ase.h5", temperature_K=300, run=settings
    )
    fast, reference = temperature_statistics(tmp_path / "fast.h5"), temperature_statistics(tmp_path / "ase.h5")
    for (a, error_a), (b, error_b) in zip(fast, reference, strict=True):
        assert abs(a - b) < 3 * np.hypot(error_a, error_b)
    (mean, error), (variance, variance_error) = fast
    assert abs(mean - 300) < 3 * error  # canonical: <T> = T₀ and var(T) = 2T₀²/(3N)
    assert abs(variance - 2 * 300**2 / (3 * 64)) < 3 * variance_error


@pytest.mark.parametrize("neighbour_list", ["linked_cell", "n2"])
def test_the_batched_model_equals_torch_sims_own_wrapper_box_by_box(mace_file, neighbour_list):
    from torch_sim.io import atoms_to_state
    from torch_sim.models.mace import MaceModel

    from mlip_transfer.dynamics.batched_mace import BatchedMace
    from mlip_transfer.models.mace import load_module

    frames = [*boxes(), build_box(Composition(2, 20, "K"), cubic_box_length_A(Composition(2, 20, "K")), seed=5)]
    module = load_module(mace_file, "cpu", "float64")
    batched = BatchedMace(module, device=torch.device("cpu"), dtype=torch.float64, neighbour_list=neighbour_list)
    out = batched(atoms_to_state(frames, torch.device("cpu"), torch.float64))
    assert set(out) == {"energy", "forces"}  # no stress asked for
    wrapper = MaceModel(module, device=torch.device("cpu"), dtype=torch.float64, compute_stress=False)
    start = 0
    for i, frame in enumerate(frames):
        alone = wrapper(atoms_to_state([frame], torch.device("cpu"), torch.float64))
        assert float(out["energy"][i]) == pytest.approx(float(alone["energy"][0]), rel=1e-10)
        forces = out["forces"][start : start + len(frame)]
        assert torch.allclose(forces, alone["forces"], rtol=0, atol=1e-10 * float(alone["forces"].abs().max()))
        start += len(frame)


def test_the_batched_model_refuses_elements_it_was_not_trained_on(mace_file):
    from torch_sim.io import atoms_to_state

    from mlip_transfer.dynamics.batched_mace import BatchedMace
    from mlip_transfer.models.mace import load_module

    batched = BatchedMace(load_module(mace_file, "cpu", "float64"), device=torch.device("cpu"), dtype=torch.float64)
    with pytest.raises(ValueError, match=r"the model has no elements \[11\]"):
        batched(atoms_to_state([Atoms("NaOH", positions=[[0, 0, 0], [2, 0, 0], [2.9, 0, 0]], cell=[8] * 3,
                                      pbc=True)], torch.device("cpu"), torch.float64))  # fmt: skip


def test_a_batch_takes_every_box_unless_the_gpu_memory_says_otherwise():
    assert torch_sim_engine.boxes_per_batch(28, None, None) == 28  # a CPU: memory not measured
    assert torch_sim_engine.boxes_per_batch(28, 2.0, 60.0) == 24  # 80 % of 60 GB at 2 GB a box
    assert torch_sim_engine.boxes_per_batch(7, 2.0, 60.0) == 7
    with pytest.raises(MDError, match="one box needs 9.0 GB per step; 8.0 GB of GPU memory are free"):
        torch_sim_engine.boxes_per_batch(7, 9.0, 8.0)
