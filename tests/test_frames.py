import numpy as np
import pytest

from mlip_transfer.reference.cp2k_output import HARTREE_EV, CutFrame, read_xyz, truncate_xyz_to_whole_frames
from mlip_transfer.reference.frames import ENERGY_KEY, FORCES_KEY, FramesError, cp2k_frames


def write_xyz(path, steps, values, truncate=False):
    with open(path, "w") as f:
        for step, v in zip(steps, values, strict=True):
            f.write(f"       2\n i =     {step}, time =    {step * 0.5:.3f}, E =  -17.0\n")
            lines = [f" O {v:.6f} 0.0 0.0", f" H {v + 1:.6f} 0.0 0.0"]
            f.write("\n".join(lines[: 1 if truncate and step == steps[-1] else 2]) + "\n")


def write_ener(path, steps):
    with open(path, "w") as f:
        f.write("#     Step Nr.   Time[fs]  Kin.[a.u.]  Temp[K]  Pot.[a.u.]  Cons Qty[a.u.]  UsedTime[s]\n")
        for s in steps:
            f.write(f"{s} {s * 0.5} 0.01 300.0 {-17.0 - s} -16.9 0.1\n")


@pytest.fixture
def trajectory(tmp_path):
    steps = list(range(0, 10, 2))
    write_xyz(tmp_path / "p.xyz", steps, [0.1 * s for s in steps])
    write_xyz(tmp_path / "f.xyz", steps, [1.0] * len(steps))
    write_ener(tmp_path / "e.ener", steps)
    return tmp_path


def test_units_cell_and_equilibration(trajectory):
    frames = cp2k_frames(trajectory / "p.xyz", trajectory / "f.xyz", trajectory / "e.ener", [9.0] * 3, skip_steps=4)
    assert [f.info["md_step"] for f in frames] == [4, 6, 8]
    first = frames[0]
    assert first.pbc.all() and np.allclose(first.cell.lengths(), 9.0)
    assert first.info[ENERGY_KEY] == pytest.approx((-17.0 - 4) * HARTREE_EV)
    # 1 Hartree/Bohr = 51.422 eV/Å
    assert first.arrays[FORCES_KEY][0, 0] == pytest.approx(51.42208619)
    assert first.positions[0, 0] == pytest.approx(0.4)


def test_mismatched_frame_counts_fail_naming_both_files(trajectory):
    write_xyz(trajectory / "f.xyz", [0, 2, 4], [1.0] * 3)
    with pytest.raises(FramesError, match=r"p\.xyz has 5 frames and .*f\.xyz has 3"):
        cp2k_frames(trajectory / "p.xyz", trajectory / "f.xyz", trajectory / "e.ener", [9.0] * 3)


def test_missing_energies_fail(trajectory):
    write_ener(trajectory / "e.ener", [0, 2])
    with pytest.raises(FramesError, match="lacks the energies of 3"):
        cp2k_frames(trajectory / "p.xyz", trajectory / "f.xyz", trajectory / "e.ener", [9.0] * 3)


def test_truncated_frame_is_an_error_when_reading_and_the_cut_when_resuming(tmp_path):
    write_xyz(tmp_path / "p.xyz", [0, 1, 2], [0, 0, 0], truncate=True)
    write_xyz(tmp_path / "f.xyz", [0, 1, 2], [0, 0, 0])
    write_ener(tmp_path / "e.ener", [0, 1, 2])
    with pytest.raises(CutFrame, match="frame 2 is cut off"):
        read_xyz(tmp_path / "p.xyz")
    with pytest.raises(FramesError, match="cut off"):
        cp2k_frames(tmp_path / "p.xyz", tmp_path / "f.xyz", tmp_path / "e.ener", [9.0] * 3)
    truncate_xyz_to_whole_frames(tmp_path / "p.xyz")  # the same walker finds the last whole frame
    assert [b.step for b in read_xyz(tmp_path / "p.xyz")] == [0, 1]


def test_steps_repeated_by_a_restart_are_kept_once_latest_wins(tmp_path):
    # a run killed after step 6 and restarted from its step-4 restart file writes steps 4 and 6 again
    steps = [0, 2, 4, 6, 4, 6, 8]
    write_xyz(tmp_path / "p.xyz", steps, [0.1 * s + (1.0 if i > 3 else 0.0) for i, s in enumerate(steps)])
    write_xyz(tmp_path / "f.xyz", steps, [1.0] * len(steps))
    write_ener(tmp_path / "e.ener", steps)
    frames = cp2k_frames(tmp_path / "p.xyz", tmp_path / "f.xyz", tmp_path / "e.ener", [9.0] * 3)
    assert [f.info["md_step"] for f in frames] == [0, 2, 4, 6, 8]
    assert frames[2].positions[0, 0] == pytest.approx(1.4)  # the restarted run's step 4


def test_without_an_energies_file_time_and_energy_come_from_the_position_comments(trajectory):
    frames = cp2k_frames(trajectory / "p.xyz", trajectory / "f.xyz", None, [9.0] * 3)
    assert [f.info["time_fs"] for f in frames] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert all(f.info[ENERGY_KEY] == pytest.approx(-17.0 * HARTREE_EV) for f in frames)  # "E = -17.0"
    (trajectory / "p.xyz").write_text((trajectory / "p.xyz").read_text().replace(", E =  -17.0", "", 1))
    with pytest.raises(Exception, match=r"p.xyz: step 0 has no 'time = <fs>, E = <Hartree>'"):
        cp2k_frames(trajectory / "p.xyz", trajectory / "f.xyz", None, [9.0] * 3)
