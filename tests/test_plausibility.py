"""Every frame makes physical sense, or the job that first reads it refuses it: the four wrong archives seen on a
real BLYP-D3 KOH(aq) archive (energies in eV declared Hartree, forces in eV/Å declared Hartree/Bohr, a cell too
small, positions and forces files swapped) are refused through the real import naming the file, the frame, the
atoms and the likely cause, and so is a computed AIMD's frame; correct frames pass.

The frames are of the archive's size (4 KOH + 92 H₂O, 288 atoms, a 14.2 Å box, packed by the box builder) with
the magnitudes measured on BLYP-D3 frames (binding −4.4 eV/atom with production's E0s, RMS force component
0.7 eV/Å); the limits are the schema's defaults."""

import copy

import numpy as np
import pytest
import yaml
from ase.io import read, write

from conftest import REPO
from mlip_transfer.errors import ConfigError
from mlip_transfer.geometry import ClosestPairs, closest_pair, minimum_image
from mlip_transfer.limits import FrameLimits
from mlip_transfer.reference.box import Composition, build_box
from mlip_transfer.reference.cp2k_output import HARTREE_EV, HARTREE_PER_BOHR_EV_PER_A
from mlip_transfer.reference.frames import ENERGY_KEY, cp2k_frames
from mlip_transfer.reference.imported import TrajectorySource, import_trajectory
from mlip_transfer.reference.plausibility import FrameCheck, ImplausibleFrame
from mlip_transfer.validation import check_config, check_schema

SCHEMA = yaml.safe_load((REPO / "config" / "schema.yaml").read_text())
DEFAULTS = {k: v["default"] for k, v in SCHEMA["properties"]["frame_checks"]["properties"].items()}
E0S_EV = {1: -12.581, 8: -431.591, 19: -767.148}  # production's BLYP-D3 isolated atoms (README)
XTB_E0S_EV = {1: -10.923, 8: -118.343, 19: -5.816}  # GFN1-xTB's (the tiny run's)
BOX_A = 14.2
TIMESTEP_FS = 0.5


@pytest.fixture(scope="module")
def frames():
    """Five frames of a 288-atom KOH(aq) box, 0.5 fs apart: positions jiggled, energy (eV) 4.4 eV/atom below the
    isolated atoms, forces (eV/Å) with an RMS component of 0.7."""
    rng = np.random.default_rng(7)
    box = build_box(Composition(4, 92, "K"), BOX_A, seed=7)
    e0_sum = sum(E0S_EV[z] for z in box.numbers)
    out = []
    for _ in range(5):
        atoms = box.copy()
        atoms.positions += rng.normal(0, 0.02, atoms.positions.shape)
        atoms.info["energy_eV"] = e0_sum + len(atoms) * (-4.4 + rng.normal(0, 0.01))
        atoms.arrays["forces_eV_per_A"] = rng.normal(0, 0.7, atoms.positions.shape)
        out.append(atoms)
    return out


def check(e0s_eV=E0S_EV):
    return FrameCheck(FrameLimits.from_params(DEFAULTS), e0s_eV)


def write_cp2k_archive(folder, frames):
    """CP2K's -pos- and -frc- files of ``frames`` (Å, Hartree/Bohr, the energy in Hartree in each comment line)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {"positions": folder / "KOH-pos-1.xyz", "forces": folder / "KOH-frc-1.xyz"}
    with open(files["positions"], "w") as pos, open(files["forces"], "w") as frc:
        for step, atoms in enumerate(frames):
            energy = atoms.info["energy_eV"] / HARTREE_EV
            comment = f" i = {step:8d}, time = {step * TIMESTEP_FS:12.3f}, E = {energy:20.10f}\n"
            forces = atoms.arrays["forces_eV_per_A"] / HARTREE_PER_BOHR_EV_PER_A
            for handle, values in ((pos, atoms.positions), (frc, forces)):
                handle.write(f"{len(atoms):8d}\n{comment}")
                handle.writelines(f"{s:>3} {x:20.10f} {y:20.10f} {z:20.10f}\n" for s, (x, y, z) in
                                  zip(atoms.get_chemical_symbols(), values, strict=True))  # fmt: skip
    return {kind: [str(path)] for kind, path in files.items()}


def cp2k_archive(tmp_path, frames, **entry):
    files = write_cp2k_archive(tmp_path / "archive", frames)
    return TrajectorySource.from_config({"format": "cp2k", **files, "cell_A": BOX_A, "equilibration_ps": 0, **entry})


def ase_archive(tmp_path, frames, **entry):
    """The frames as extended XYZ in eV and eV/Å under named keys, with their cell; the units as ``entry`` says."""
    out = []
    for atoms in frames:
        frame = atoms.copy()
        frame.cell, frame.pbc = [BOX_A] * 3, True
        frame.info = {"E_dft": atoms.info["energy_eV"]}
        frame.arrays["F_dft"] = atoms.arrays["forces_eV_per_A"]
        del frame.arrays["forces_eV_per_A"]
        out.append(frame)
    path = tmp_path / "archive.extxyz"
    write(path, out, format="extxyz")
    units = {"energy_unit": "eV", "forces_unit": "eV/A", **entry}
    return TrajectorySource.from_config(
        {"format": "ase", "files": [str(path)], "energy_key": "E_dft", "forces_key": "F_dft",
         "frame_interval_fs": TIMESTEP_FS, "equilibration_ps": 0, **units}
    )  # fmt: skip


def test_correct_frames_pass_in_either_format_with_their_ranges(tmp_path, frames):
    for source in (cp2k_archive(tmp_path, frames), ase_archive(tmp_path, frames)):
        checked = check()
        import_trajectory(source, tmp_path / "frames.extxyz", check=checked)
        assert len(read(tmp_path / "frames.extxyz", ":")) == checked.frames == 5
        (low, high) = checked.ranges["binding_eV_per_atom"]
        assert -4.5 < low < high < -4.3 and 0.65 < checked.ranges["rms_force_eV_per_A"][0] < 0.75
        assert 0.85 < checked.ranges["closest_pair_A"][0] < 1.05  # an O–H bond
        assert "5 frames: closest pair" in checked.summary()


def _swapped(tmp_path, frames):
    source = cp2k_archive(tmp_path, frames)
    return TrajectorySource.from_config(
        {"format": "cp2k", "positions": list(source.files["forces"]), "forces": list(source.files["positions"]),
         "cell_A": BOX_A, "equilibration_ps": 0}
    )  # fmt: skip


WRONG_ARCHIVES = {
    "energies in eV declared Hartree": (
        lambda tmp_path, frames: ase_archive(tmp_path, frames, energy_unit="hartree"),
        r"binding energy -4\d{3} eV/atom .* energies look ×27\.2 off \(too large: eV read as Hartree\?\): is "
        r"energy_unit right\?",
    ),
    "forces in eV/Å declared Hartree/Bohr": (
        lambda tmp_path, frames: ase_archive(tmp_path, frames, forces_unit="hartree/bohr"),
        r"RMS force component 3\d\.\d+ eV/Å .* forces look ×51\.4 off \(too large: eV/Å read as Hartree/Bohr\?\): "
        r"is forces_unit right\?",
    ),
    "a 10 Å cell for a 14.2 Å box": (
        lambda tmp_path, frames: cp2k_archive(tmp_path, frames, cell_A=10.0),
        r"atoms \d+ \([HOK]\) and \d+ \([HOK]\) are 0\.\d+ Å apart .* the 10 × 10 × 10 Å cell\), below "
        r"frame_checks\.min_pair_distance_A = 0\.5 Å: a wrong cell or swapped position/forces files\?",
    ),
    "positions and forces files swapped": (
        _swapped,
        r"are 0\.00\d Å apart .*: a wrong cell or swapped position/forces files\?; RMS force component \d{3}",
    ),
}


@pytest.mark.parametrize("wrong, message", WRONG_ARCHIVES.values(), ids=WRONG_ARCHIVES.keys())
def test_a_wrong_archive_is_refused_naming_the_frame_and_the_likely_cause(tmp_path, frames, wrong, message):
    source = wrong(tmp_path, frames)
    with pytest.raises(ImplausibleFrame, match=message) as error:
        import_trajectory(source, tmp_path / "frames.extxyz", check=check())
    assert str(error.value).startswith(f"{source.first_file}: imported frame 0 (step 0): ")
    assert not (tmp_path / "frames.extxyz").exists()  # nothing written


def test_one_bad_frame_is_named_with_its_atoms(tmp_path, frames):
    bad = [atoms.copy() for atoms in frames]
    h, o = 13, 8  # a water's H moved to 0.2 Å from a hydroxide's O (atoms: K, then O, H of each OH⁻, then O, H, H)
    assert bad[3].symbols[h] == "H" and bad[3].symbols[o] == "O"
    bad[3].positions[h] = bad[3].positions[o] + [0.2, 0.0, 0.0]
    with pytest.raises(ImplausibleFrame, match=r"imported frame 3 \(step 3\): atoms 8 \(O\) and 13 \(H\) are 0\.200 Å"):
        import_trajectory(cp2k_archive(tmp_path, bad), tmp_path / "frames.extxyz", check=check())


def test_e0s_of_another_method_are_named_as_the_likely_cause(tmp_path, frames):
    with pytest.raises(ImplausibleFrame, match=r"binding energy -12\d\.\d eV/atom .*are the E0s of the frames’ method"):
        import_trajectory(cp2k_archive(tmp_path, frames), tmp_path / "frames.extxyz", check=check(XTB_E0S_EV))


def test_a_computed_aimd_is_checked_too(tmp_path, frames):
    files = write_cp2k_archive(tmp_path / "segment_0", frames)
    checked = check()
    extracted = cp2k_frames(files["positions"], files["forces"], None, [BOX_A] * 3, check=checked)
    assert checked.frames == 5
    assert extracted[0].info[ENERGY_KEY] == pytest.approx(frames[0].info["energy_eV"])
    with pytest.raises(ImplausibleFrame, match=rf"{files['positions'][0]}: step 0: atoms .* a wrong cell"):
        cp2k_frames(files["positions"], files["forces"], None, [10.0] * 3, check=check())


def test_the_closest_pair_is_exact_under_periodic_boundaries_frame_after_frame(frames):
    """Against all pairs by minimum image: atoms moving at 300 K speeds, 5 fs apart (the neighbour list rebuilt
    every other frame), some outside the cell, and a frame with no pair within the list's reach (a grid)."""
    rng = np.random.default_rng(3)
    start = frames[0].positions - [BOX_A / 2, 0.0, 0.0]  # atoms at negative x
    velocities_A_per_fs = rng.normal(0, 0.015, start.shape)  # ~H at 300 K, per component
    grid = (np.indices((7, 7, 7)).reshape(3, -1).T[: len(start)] + 0.5) * BOX_A / 7 + rng.normal(0, 0.01, start.shape)
    trajectory = [start + velocities_A_per_fs * 5.0 * k for k in range(12)] + [grid]
    pairs = ClosestPairs()
    for positions in trajectory:
        vectors = minimum_image(positions[None, :, :] - positions[:, None, :], np.full(3, BOX_A))
        distances = np.linalg.norm(vectors, axis=-1) + np.diag(np.full(len(positions), np.inf))
        i, j = np.unravel_index(np.argmin(distances), distances.shape)
        expected = (distances[i, j], min(i, j), max(i, j))
        assert closest_pair(positions, [BOX_A] * 3) == pytest.approx(expected)
        assert pairs(positions, [BOX_A] * 3) == pytest.approx(expected)


def test_the_limits_are_config_keys_with_schema_defaults_and_ordered_bands():
    config = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())
    check_schema(config, REPO / "config" / "schema.yaml")
    assert config["frame_checks"] == DEFAULTS
    reversed_band = copy.deepcopy(config)
    reversed_band["frame_checks"]["rms_force_eV_per_A"] = [5.0, 0.05]
    with pytest.raises(ConfigError, match=r"'frame_checks\.rms_force_eV_per_A': band \[5\.0, 0\.05\]"):
        check_config(reversed_band)
