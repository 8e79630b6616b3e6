"""AIMD that exists already, imported: CP2K archives and ASE files give the frames a computed AIMD gives,
and every bad input is refused naming its file and frame (or config key) before any frame is used."""

import copy

import numpy as np
import pytest
import yaml
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import read, write
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from conftest import REPO
from mlip_transfer.reference.box import Composition, build_box
from mlip_transfer.reference.cp2k_output import (
    BOHR_A,
    HARTREE_EV,
    HARTREE_PER_BOHR_EV_PER_A,
    TRAJECTORY_FILES,
    md_file_name,
)
from mlip_transfer.reference.frames import ENERGY_KEY, FORCES_KEY
from mlip_transfer.reference.imported import (
    ImportedDataError,
    TrajectorySource,
    cell_of_cp2k_file,
    import_trajectory,
    scan,
)
from mlip_transfer.validation import ConfigError, check_config, check_schema

CELL_A = 7.6
POS, FRC, ENER = (md_file_name("p", kind) for kind in TRAJECTORY_FILES)  # CP2K's names (also fine as regexes)
TINY = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())


def trajectory(n, seed, composition=None):
    """``n`` frames of a KOH box (1 KOH + 14 H2O unless told), jiggled, with made-up energies (Hartree) and
    forces (Hartree/Bohr)."""
    rng = np.random.default_rng(seed)
    box = build_box(composition or Composition(1, 14, "K"), CELL_A, seed=seed)
    frames = []
    for _ in range(n):
        atoms = box.copy()
        atoms.positions += rng.normal(0, 0.05, atoms.positions.shape)
        atoms.info["energy_hartree"] = -86.6 + rng.normal(0, 0.01)
        atoms.arrays["forces_hartree_per_bohr"] = rng.normal(0, 0.02, atoms.positions.shape)
        frames.append(atoms)
    return frames


def write_cp2k(folder, frames, steps, timestep_fs=0.5, ener=True, times_fs=None):
    """CP2K's -pos-, -frc- and .ener files of ``frames`` at MD ``steps`` (CP2K's formats and units), at
    ``times_fs`` (default: step × timestep; a time of None: no 'time =' in that comment line)."""
    folder.mkdir(parents=True, exist_ok=True)
    times_fs = [step * timestep_fs for step in steps] if times_fs is None else times_fs
    with open(folder / POS, "w") as pos, open(folder / FRC, "w") as frc:
        for step, time_fs, atoms in zip(steps, times_fs, frames, strict=True):
            time = "" if time_fs is None else f", time = {time_fs:12.3f}"
            comment = f" i = {step:8d}{time}, E = {atoms.info['energy_hartree']:20.10f}\n"
            for handle, values in ((pos, atoms.positions), (frc, atoms.arrays["forces_hartree_per_bohr"])):
                handle.write(f"{len(atoms):8d}\n{comment}")
                handle.writelines(f"{s:>3} {x:20.10f} {y:20.10f} {z:20.10f}\n" for s, (x, y, z) in
                                  zip(atoms.get_chemical_symbols(), values, strict=True))  # fmt: skip
    if ener:
        with open(folder / ENER, "w") as handle:
            handle.write("#     Step Nr.          Time[fs]        Kin.[a.u.]          Temp[K]            Pot.[a.u.]\n")
            handle.writelines(
                f"{step} {step * timestep_fs if t is None else t} 0.05 300.0 {a.info['energy_hartree']} -86.5 0.9\n"
                for step, t, a in zip(steps, times_fs, frames, strict=True)
            )
    return {kind: [str(folder / name)] for kind, name in
            (("positions", POS), ("forces", FRC), ("energies", ENER))}  # fmt: skip


def cp2k_source(files, **entry):
    return TrajectorySource.from_config({"format": "cp2k", **files, "cell_A": CELL_A, "equilibration_ps": 0, **entry})


def write_extxyz(path, frames, unit="hartree"):
    """Frames as extended XYZ with named keys, in Hartree and Hartree/Bohr or in eV and eV/Å."""
    scale = (1.0, 1.0) if unit == "hartree" else (HARTREE_EV, HARTREE_PER_BOHR_EV_PER_A)
    out = []
    for atoms in frames:
        frame = atoms.copy()
        frame.cell, frame.pbc = [CELL_A] * 3, True
        frame.info = {"E_total": atoms.info["energy_hartree"] * scale[0]}
        frame.arrays["F_dft"] = atoms.arrays["forces_hartree_per_bohr"] * scale[1]
        del frame.arrays["forces_hartree_per_bohr"]
        out.append(frame)
    write(path, out, format="extxyz")
    return path


def ase_source(path, **entry):
    """An ASE source of ``path``: eV and eV/Å from the file's calculator, 1 fs apart, in the test cell, unless
    ``entry`` says otherwise."""
    entry = {"energy_unit": "eV", "forces_unit": "eV/A", "cell_A": CELL_A, "frame_interval_fs": 1.0, **entry}
    return TrajectorySource.from_config({"format": "ase", "files": [str(path)], "equilibration_ps": 0, **entry})


# the keys and units of write_extxyz's files
NAMED_IN_HARTREE = {"energy_key": "E_total", "forces_key": "F_dft", "energy_unit": "hartree",
                    "forces_unit": "hartree/bohr", "frame_interval_fs": 0.5}  # fmt: skip


def test_cp2k_segments_with_a_restart_repeat_comment_energies_equilibration_and_stride(tmp_path):
    frames = trajectory(12, seed=1)
    # the second segment restarts from step 10 and writes steps 10 and 12 again (latest kept)
    first = write_cp2k(tmp_path / "s0", frames[:7], range(0, 14, 2), ener=False)
    second = write_cp2k(tmp_path / "s1", frames[5:], range(10, 24, 2), ener=False)
    files = {"positions": first["positions"] + second["positions"], "forces": first["forces"] + second["forces"]}
    source = cp2k_source(files, equilibration_ps=0.002, stride=2)  # 2 fs: steps 0, 2 (of 1 fs each) dropped
    header = scan(source)
    assert (header.written, header.skip, header.frame_interval_fs, header.frames) == (12, 2, 1.0, 5)
    import_trajectory(source, tmp_path / "frames.extxyz")
    imported = read(tmp_path / "frames.extxyz", ":")
    assert [f.info["md_step"] for f in imported] == [4, 8, 12, 16, 20]
    assert np.allclose(imported[2].positions, frames[6].positions, atol=1e-8)  # step 12: the second segment's
    assert imported[0].info[ENERGY_KEY] == pytest.approx(frames[2].info["energy_hartree"] * HARTREE_EV, abs=1e-8)
    assert np.allclose(
        imported[0].arrays[FORCES_KEY], frames[2].arrays["forces_hartree_per_bohr"] * HARTREE_EV / BOHR_A
    )
    assert np.allclose(imported[0].cell.lengths(), CELL_A) and imported[0].pbc.all()


def test_a_first_segment_of_one_frame_is_planned_from_the_next(tmp_path):
    frames = trajectory(5, seed=11)
    first, second = write_cp2k(tmp_path / "s0", frames[:1], [0]), write_cp2k(tmp_path / "s1", frames, range(0, 10, 2))
    source = cp2k_source({kind: first[kind] + second[kind] for kind in first})
    header = scan(source)
    assert (header.written, header.frame_interval_fs) == (5, 1.0)
    assert import_trajectory(source, tmp_path / "frames.extxyz").frames == 5


@pytest.mark.parametrize("ener", [True, False], ids=["ener", "comment energies"])
def test_a_published_archive_numbering_its_first_frame_1_is_placed_by_its_times(tmp_path, caplog, ener):
    # i = 1 at 0 fs, then i = 200, 400, … every 100 fs; the second segment restarts from step 600 (written again)
    frames, steps, times = trajectory(6, seed=14), [1, *range(200, 1001, 200)], [100.0 * n for n in range(6)]
    first = write_cp2k(tmp_path / "s0", frames[:4], steps[:4], times_fs=times[:4], ener=ener)
    second = write_cp2k(tmp_path / "s1", frames[3:], steps[3:], times_fs=times[3:], ener=ener)
    files = {kind: first[kind] + second[kind] for kind in (TRAJECTORY_FILES if ener else ("positions", "forces"))}
    source = cp2k_source(files, equilibration_ps=0.1, stride=2)  # 100 fs: the frame at 0 fs dropped
    header = scan(source)
    assert (header.written, header.frame_interval_fs, header.skip, header.frames) == (6, 100.0, 1, 3)
    assert "the step counter is uneven (first frame i = 1, then every 200 to i = 1000): the times, 100.000 fs " in (
        caplog.text
    )
    import_trajectory(source, tmp_path / "frames.extxyz")
    imported = read(tmp_path / "frames.extxyz", ":")
    assert [(f.info["md_step"], f.info["time_fs"]) for f in imported] == [(200, 100.0), (600, 300.0), (1000, 500.0)]
    for atoms, n in zip(imported, (1, 3, 5), strict=True):
        assert np.allclose(atoms.positions, frames[n].positions, atol=1e-8)
        assert atoms.info[ENERGY_KEY] == pytest.approx(frames[n].info["energy_hartree"] * HARTREE_EV, abs=1e-8)


def test_a_gap_is_refused_naming_the_field_that_shows_it(tmp_path):
    # the archive's numbering, with the frame at 300 fs missing: its times show it, its step counter cannot
    frames, steps = trajectory(5, seed=15), [1, 200, 400, 800, 1000]
    files = write_cp2k(tmp_path / "archive", frames, steps, times_fs=[0.0, 100.0, 200.0, 400.0, 500.0])
    assert scan(cp2k_source(files)).written == 6  # planned from the times, the import refuses it
    by_time = (
        rf"archive/{POS}: frame 3 \(step 800, time = 400.000 fs\) follows time = 200.000 fs, but frames are "
        r"100.000 fs apart \(their 'time =' fields\): frames are missing"
    )
    with pytest.raises(ImportedDataError, match=by_time):
        import_trajectory(cp2k_source(files), tmp_path / "frames.extxyz")
    # no 'time =' printed: the step counter shows it
    files = write_cp2k(tmp_path / "steps", frames, [0, 2, 4, 8, 10], times_fs=[None] * 5)
    by_step = (
        rf"steps/{POS}: frame 3 \(step 8\) follows step 4, but frames are 2 steps apart \(their step counter "
        r"'i ='; no 'time =' printed\): frames are missing"
    )
    with pytest.raises(ImportedDataError, match=by_step):
        import_trajectory(cp2k_source(files, frame_interval_fs=1.0), tmp_path / "frames.extxyz")


def test_a_restart_replaces_what_was_written_after_it_and_a_killed_segment_may_end_cut(tmp_path):
    frames = trajectory(10, seed=12)
    # segment 0 ran to step 8 and was killed mid-frame; segment 1 restarted from step 4 and stopped at step 6;
    # segment 2 restarted from 6: steps 7 and 8 of segment 0 are not the trajectory's
    first = write_cp2k(tmp_path / "s0", frames[:9], range(9), ener=False)
    for kind in ("positions", "forces"):
        with open(first[kind][0], "a") as handle:
            handle.write("      45\n i = 9, time = 4.5, E = -86.6\n K 1.0 2.0\n")
    second = write_cp2k(tmp_path / "s1", frames[4:7], range(4, 7), ener=False)
    third = write_cp2k(tmp_path / "s2", frames[6:], range(6, 10), ener=False)
    segments = (first, second, third)
    source = cp2k_source({kind: [f for s in segments for f in s[kind]] for kind in ("positions", "forces")})
    import_trajectory(source, tmp_path / "frames.extxyz")
    assert [f.info["md_step"] for f in read(tmp_path / "frames.extxyz", ":")] == list(range(10))
    frames_file = TrajectorySource.of_job(source.settings(), source.input_files())  # no .ener: through the job
    assert import_trajectory(frames_file, tmp_path / "again.extxyz").frames == 10


def test_an_unreadable_number_and_a_skewed_or_changing_cell_are_refused_naming_the_frame(tmp_path):
    frames = trajectory(3, seed=13)
    files = write_cp2k(tmp_path, frames, range(3))
    text = open(files["forces"][0]).read().splitlines(keepends=True)
    text[50] = " H ****************** 0.0 0.0\n"  # frame 1: CP2K's overflow of a column
    open(files["forces"][0], "w").writelines(text)
    with pytest.raises(ImportedDataError, match=rf"{FRC}: frame 1: could not convert"):
        import_trajectory(cp2k_source(files), tmp_path / "frames.extxyz")
    for atoms in frames:
        atoms.calc = SinglePointCalculator(atoms, energy=-1.0, forces=np.zeros((len(atoms), 3)))
    frames[2].cell = [CELL_A, CELL_A, CELL_A + 0.5]
    write(tmp_path / "npt.traj", frames)
    with pytest.raises(ImportedDataError, match=r"npt.traj: frame 2 has the cell .* \(a changing or skewed cell"):
        import_trajectory(ase_source(tmp_path / "npt.traj", cell_A=None), tmp_path / "frames.extxyz")
    frames[0].cell = [[CELL_A, 0, 0], [1.0, CELL_A, 0], [0, 0, CELL_A]]
    write(tmp_path / "skew.traj", frames)
    with pytest.raises(ImportedDataError, match=r"skew.traj: the cell is not orthorhombic"):
        scan(ase_source(tmp_path / "skew.traj", cell_A=None))


def test_the_same_frames_from_cp2k_files_and_from_extended_xyz_in_either_unit_are_identical(tmp_path):
    frames = trajectory(6, seed=2)
    cp2k = import_trajectory(cp2k_source(write_cp2k(tmp_path, frames, range(6))), tmp_path / "a.extxyz")
    rounded = read(tmp_path / POS, ":")  # the positions as CP2K printed them (10 decimals)
    for atoms, printed in zip(frames, rounded, strict=True):
        atoms.positions = printed.positions
    for unit in ("hartree", "eV"):
        units = {} if unit == "hartree" else {"energy_unit": "eV", "forces_unit": "eV/A"}
        source = ase_source(write_extxyz(tmp_path / f"{unit}.extxyz", frames, unit), **{**NAMED_IN_HARTREE, **units})
        assert scan(source).frames == cp2k.frames == 6
        import_trajectory(source, tmp_path / f"b_{unit}.extxyz")
        for x, y in zip(read(tmp_path / "a.extxyz", ":"), read(tmp_path / f"b_{unit}.extxyz", ":"), strict=True):
            # extended XYZ prints 8 decimals: of Å, and of Hartree/Bohr (5e-7 eV/Å) in the Hartree file
            assert np.allclose(x.positions, y.positions, rtol=0, atol=1e-8)
            assert np.allclose(x.arrays[FORCES_KEY], y.arrays[FORCES_KEY], rtol=0, atol=1e-6)
            assert x.info[ENERGY_KEY] == pytest.approx(y.info[ENERGY_KEY], rel=1e-12)


def test_an_ase_trajectory_with_calculator_results_and_its_own_cell(tmp_path):
    frames = []
    for atoms in trajectory(4, seed=3):
        frame = atoms.copy()
        frame.cell, frame.pbc = [CELL_A, CELL_A, CELL_A + 1], True
        frame.calc = SinglePointCalculator(frame, energy=-2357.0, forces=np.ones((len(frame), 3)))
        frames.append(frame)
    write(tmp_path / "run.traj", frames)
    source = ase_source(tmp_path / "run.traj", cell_A=None, frame_interval_fs=2.0, equilibration_ps=0.002)
    header = scan(source)
    assert header.cell_A == (CELL_A, CELL_A, CELL_A + 1) and (header.written, header.frames) == (4, 3)
    import_trajectory(source, tmp_path / "frames.extxyz")
    imported = read(tmp_path / "frames.extxyz", ":")
    assert [f.info["time_fs"] for f in imported] == [2.0, 4.0, 6.0]
    assert imported[0].info[ENERGY_KEY] == -2357.0 and (imported[0].arrays[FORCES_KEY] == 1.0).all()


def test_ase_own_names_energy_and_forces_are_read_from_its_calculator(tmp_path):
    # ASE's extended XYZ reader moves energy=, free_energy= and forces into a calculator; REF_ keys stay in info
    own, named = [], []
    for atoms in trajectory(3, seed=16):
        energy, forces = atoms.info["energy_hartree"] * HARTREE_EV, atoms.arrays["forces_hartree_per_bohr"]
        frame = Atoms(atoms.symbols, positions=atoms.positions, cell=[CELL_A] * 3, pbc=True)
        named.append(frame.copy())
        named[-1].info[ENERGY_KEY], named[-1].arrays[FORCES_KEY] = energy, forces
        frame.calc = SinglePointCalculator(frame, energy=energy, free_energy=energy - 0.1, forces=forces)
        own.append(frame)
    write(tmp_path / "own.extxyz", own)
    write(tmp_path / "named.extxyz", named)
    for path, keys in (("own", ("energy", "forces")), ("named", (ENERGY_KEY, FORCES_KEY))):
        source = ase_source(tmp_path / f"{path}.extxyz", energy_key=keys[0], forces_key=keys[1])
        assert import_trajectory(source, tmp_path / f"{path}.frames.extxyz").frames == 3
    own_frames, named_frames = (read(tmp_path / f"{path}.frames.extxyz", ":") for path in ("own", "named"))
    for x, y in zip(own_frames, named_frames, strict=True):
        assert np.array_equal(x.positions, y.positions) and x.info == y.info
        assert np.array_equal(x.arrays[FORCES_KEY], y.arrays[FORCES_KEY])
    free = ase_source(tmp_path / "own.extxyz", energy_key="free_energy", forces_key="forces")
    import_trajectory(free, tmp_path / "free.extxyz")
    free_energies = [frame.calc.results["free_energy"] for frame in own]
    assert [frame.info[ENERGY_KEY] for frame in read(tmp_path / "free.extxyz", ":")] == pytest.approx(free_energies)
    missing = (
        r"own.extxyz: frame 0 has no energy_key 'dft_energy'; it has info \[\], arrays \['numbers', 'positions'\], "
        r"calculator results \['energy', 'forces', 'free_energy'\]"
    )
    with pytest.raises(ImportedDataError, match=missing):
        import_trajectory(ase_source(tmp_path / "own.extxyz", energy_key="dft_energy"), tmp_path / "f.extxyz")


def test_the_cell_comes_from_a_cp2k_input_or_restart_file(tmp_path):
    (tmp_path / "run.inp").write_text("&FORCE_EVAL\n &SUBSYS\n  &CELL\n   ABC 14.2 14.2 14.3\n  &END CELL\n")
    (tmp_path / "run.restart").write_text(
        " &CELL\n  A 1.42E+01 0.0 0.0\n  B 0.0 1.42E+01 0.0\n  C 0.0 0.0 1.43E+01\n  PERIODIC XYZ\n &END CELL\n"
    )
    assert cell_of_cp2k_file(tmp_path / "run.inp") == cell_of_cp2k_file(tmp_path / "run.restart") == (14.2, 14.2, 14.3)
    (tmp_path / "skew.restart").write_text(" &CELL\n A 14 0 0\n B 1 14 0\n C 0 0 14\n &END CELL\n")
    with pytest.raises(ImportedDataError, match="skew.restart: the cell is not orthorhombic"):
        cell_of_cp2k_file(tmp_path / "skew.restart")


def bad_cp2k(tmp_path, change):
    """CP2K files of 6 frames with ``change(frames, steps)`` applied before they are written."""
    frames, steps = trajectory(6, seed=4), list(range(6))
    change(frames, steps)
    return cp2k_source(write_cp2k(tmp_path, frames, steps))


def _nan_forces(frames, steps):
    frames[3].arrays["forces_hartree_per_bohr"][5, 1] = np.nan


def _nan_energy(frames, steps):
    frames[2].info["energy_hartree"] = np.inf


def _other_composition(frames, steps):
    frames[4] = trajectory(1, seed=5, composition=Composition(2, 13, "K"))[0]


def _backwards(frames, steps):
    steps[:] = [3, 4, 5, 0, 1, 2]  # two segments in the wrong order


def _missing_frames(frames, steps):
    steps[4:] = [6, 7]


BAD_FILES = {
    "NaN forces": (_nan_forces, rf"step 3: NaN or infinite energy or forces in .*{ENER} / .*{FRC}"),
    "infinite energy": (_nan_energy, rf"step 2: NaN or infinite energy or forces in .*{ENER}"),
    "another composition": (_other_composition, rf"{POS}: frame of step 4 holds H28K2O15, not the H29KO15"),
    "time backwards": (_backwards, rf"{POS}: frame 3 \(step 0\) comes after step 5: time runs backwards"),
    "missing frames": (
        _missing_frames,
        rf"{POS}: frame 4 \(step 6, time = 3.000 fs\) follows time = 1.500 fs, .*'time =' fields\): frames are missing",
    ),
}


@pytest.mark.parametrize("change, message", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_trajectories_are_refused_naming_the_file_and_frame(tmp_path, change, message):
    source = bad_cp2k(tmp_path, change)
    with pytest.raises(ImportedDataError, match=message):
        import_trajectory(source, tmp_path / "frames.extxyz")
    assert not (tmp_path / "frames.extxyz").exists()


def test_forces_of_other_atoms_are_refused(tmp_path):
    frames = trajectory(3, seed=6)
    files = write_cp2k(tmp_path, frames, range(3))
    short = trajectory(3, seed=6, composition=Composition(1, 13, "K"))
    write_cp2k(tmp_path / "short", short, range(3))
    with pytest.raises(ImportedDataError, match=rf"short/{FRC}: step 0: forces of 42 atoms .* do not match the 45"):
        import_trajectory(cp2k_source({**files, "forces": [str(tmp_path / "short" / FRC)]}), tmp_path / "f")
    path = tmp_path / "wrong.traj"
    atoms = frames[0].copy()
    atoms.calc = SinglePointCalculator(atoms, energy=-1.0, forces=np.zeros((3, 3)))
    write(path, [atoms])
    source = ase_source(path)
    with pytest.raises(ImportedDataError, match=r"wrong.traj: frame 0: forces of shape \(3, 3\) for 45 atoms"):
        import_trajectory(source, tmp_path / "frames.extxyz")


def test_a_test_trajectory_sharing_frames_with_the_training_one_is_refused(tmp_path):
    frames = trajectory(8, seed=7)
    import_trajectory(cp2k_source(write_cp2k(tmp_path / "train", frames, range(8))), tmp_path / "train.extxyz")
    test = trajectory(4, seed=8)
    test[2] = frames[5]  # one shared frame
    source = cp2k_source(write_cp2k(tmp_path / "test", test, range(4)))
    with pytest.raises(ImportedDataError, match=r"imported frame 2 \(step 2\) has the positions of frame 5 of the "):
        import_trajectory(source, tmp_path / "test.extxyz", tmp_path / "train.extxyz")
    test[2] = trajectory(1, seed=9)[0]
    import_trajectory(
        cp2k_source(write_cp2k(tmp_path / "test", test, range(4))), tmp_path / "t.extxyz", tmp_path / "train.extxyz"
    )


def test_a_file_without_a_cell_or_time_step_is_refused(tmp_path):
    frames = trajectory(3, seed=10)
    files = write_cp2k(tmp_path, frames, range(3))
    with pytest.raises(ImportedDataError, match=rf"{POS}: no cell in the file; give cell_A or cell_from"):
        scan(cp2k_source(files, cell_A=None))
    for atoms in frames:
        atoms.cell, atoms.pbc = None, False
    plain = tmp_path / "plain.extxyz"
    write(plain, frames)
    source = ase_source(plain, frame_interval_fs=None)
    with pytest.raises(ImportedDataError, match=r"plain.extxyz: the time between frames is not in the file"):
        scan(source)
    with pytest.raises(ImportedDataError, match=r"frames are 0.5 fs apart \(its 'time =' fields\), not the stated"):
        scan(cp2k_source(files, frame_interval_fs=1.0))


# --- the config: checked before any job, naming the key and the file ------------------------------------------


@pytest.fixture
def archive(tmp_path):
    """An imported two-concentration study (training as CP2K files, test as extended XYZ) with no CP2K."""
    config = copy.deepcopy(TINY)
    entries = []
    for i, (label, composition) in enumerate((("c3_78", Composition(1, 14, "K")), ("c11_34", Composition(3, 12, "K")))):
        train = write_cp2k(tmp_path / label, trajectory(30, seed=20 + i, composition=composition), range(30))
        test = write_extxyz(tmp_path / f"{label}.test.extxyz", trajectory(12, seed=30 + i, composition=composition))
        entries.append({"label": label, "imported": {
            "training": {"format": "cp2k", **train, "cell_A": CELL_A, "equilibration_ps": 0.001},
            "test": {"format": "ase", "files": [str(test)], "energy_key": "E_total", "forces_key": "F_dft",
                     "energy_unit": "hartree", "forces_unit": "hartree/bohr", "frame_interval_fs": 0.5,
                     "equilibration_ps": 0}}})  # fmt: skip
    config.update(concentrations=entries, cp2k=None, test_trajectory=None, md_reference=None, repair=[])
    config["foundation_model"] = {"file": "foundation.model"}
    config["reference_energies"] = {"source": "a test", "e0s_eV": {"K": -1.0, "O": -2.0, "H": -3.0}}
    return config


def check(config):
    validate(config, str(REPO / "config" / "schema.yaml"))
    check_config(config)


def test_an_imported_study_is_planned_from_its_files(archive):
    from mlip_transfer.study import Study

    check(archive)
    reference = Study(archive).reference
    assert reference.imported_systems == ["c3_78", "c11_34", "c3_78.test", "c11_34.test"]
    assert reference.frames("c3_78") == 28 and reference.frames("c3_78.test") == 12
    assert reference.split_sizes("c3_78") == {"train": 17, "valid": 4, "test": 7}
    assert reference.concentrations["c11_34"].composition == Composition(3, 12, "K")
    assert reference.frame_interval_ps("c3_78") == pytest.approx(0.0005) and not reference.cost_systems()


def test_a_published_archive_numbering_its_first_frame_1_is_planned(archive, tmp_path):
    from mlip_transfer.study import Study

    # 250 frames: counted by the step counter from its first gap (199 steps) they would be 251
    steps, times = [1, *range(200, 200 * 250, 200)], [100.0 * n for n in range(250)]
    files = write_cp2k(tmp_path / "published", trajectory(250, seed=20), steps, times_fs=times)
    archive["concentrations"][0]["imported"]["training"].update(**files, equilibration_ps=0.2)
    check(archive)
    reference = Study(archive).reference
    assert reference.frames("c3_78") == 248 and reference.frame_interval_ps("c3_78") == pytest.approx(0.1)


def _imported(i, kind, **changes):
    def change(config):
        config["concentrations"][i]["imported"][kind].update(changes)

    return change


def _drop(key):
    return lambda config: config.update({key: None})


BAD_CONFIGS = {
    "no E0s and no CP2K": (_drop("reference_energies"), "config key 'reference_energies': the study imports"),
    "a stated molarity the frames do not have": (
        lambda c: c["concentrations"][0].update(molarity_mol_per_L=4.5),
        r"config key 'concentrations\[0\].molarity_mol_per_L': 1 KOH \+ 14 H2O in the 7.60 × 7.60 × 7.60 Å cell of "
        rf".*c3_78/{POS} is 3.78 mol/L, not the stated 4.5",
    ),
    "shorter than equilibration plus split": (
        _imported(1, "training", equilibration_ps=0.0135),
        rf"config key 'concentrations\[1\].imported.training': .*c11_34/{POS} holds 30 frames \(0.0145 ps\); "
        r"after equilibration_ps and stride 3 are left",
    ),
    "missing file": (
        _imported(0, "test", files=["absent.extxyz"]),
        r"config key 'concentrations\[0\].imported.test': absent.extxyz does not exist",
    ),
    "a computed concentration without CP2K": (
        lambda c: c["concentrations"].append({"label": "c7", "n_hydroxide": 2, "n_water": 13}),
        r"config key 'concentrations\[2\]': c7 has no imported AIMD and cp2k is null",
    ),
    "a test trajectory for some only": (
        lambda c: c["concentrations"][1]["imported"].pop("test"),
        r"config key 'concentrations\[1\].imported.training': \['c11_34'\] have no independent test trajectory",
    ),
    "a test file that is a training file": (
        lambda c: c["concentrations"][0]["imported"].update(test=c["concentrations"][0]["imported"]["training"]),
        rf"config key 'concentrations\[0\].imported.test': .*c3_78/{POS} is also a file of the training",
    ),
    "cell given twice": (
        _imported(0, "training", cell_from="run.inp"),
        r"should not be valid under \{'required': \['cell_A', 'cell_from'\]\}",
    ),
    "md_reference stays configured": (lambda c: None, None),
}


@pytest.mark.parametrize("change, message", BAD_CONFIGS.values(), ids=BAD_CONFIGS.keys())
def test_imported_configs_are_refused_naming_the_key_and_file(archive, change, message):
    change(archive)
    if message is None:
        check(archive)
        return
    with pytest.raises((ConfigError, WorkflowError), match=message):
        check(archive)


@pytest.mark.parametrize(
    "drop, key", [("energy_unit", "energy_unit"), ("forces_unit", "forces_unit"), ("files", "files")]
)
def test_an_ase_source_without_its_units_fails_the_schema(archive, drop, key):
    del archive["concentrations"][0]["imported"]["test"][drop]
    with pytest.raises(WorkflowError, match=f"'{key}' is a required property"):
        validate(archive, str(REPO / "config" / "schema.yaml"))


def test_the_shipped_example_of_existing_data_passes_the_schema():
    """config/existing_data.yaml, the README's example of bringing one's own AIMD and models: valid as shipped
    (its archive paths are placeholders, so the file checks are not run here)."""
    config = yaml.safe_load((REPO / "config" / "existing_data.yaml").read_text())
    check_schema(config, REPO / "config" / "schema.yaml")
    assert config["cp2k"] is None and config["external_models"][0]["training_concentrations"] == ["c6_26"]
