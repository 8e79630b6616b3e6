"""The production method for real: BLYP-D3 with DZVP-MOLOPT-SR-GTH basis sets and GTH-BLYP pseudopotentials
(production's `cp2k.dft`, the cutoff lowered for time) through the workflow's own rules on a 21-atom box:
isolated-atom E0s, relaxation, an AIMD in two segments with the wavefunction carried, frames, a fine-tune, its
MD, and CP2K single points on the MD's frames. Every SCF must converge and every number be finite; the forces
CP2K reports must be the derivative of its energy (a central finite difference on one frame).

Time goes into the grid (collocation and integration of the density, ~90 % of a step) and into SCFs from the
atomic guess (~77 OT steps against ~15 from a neighbouring step's wavefunction). The box is therefore dilute
(8 Å instead of the 5.9 Å of liquid density: half the cost per SCF step, fewer periodic images of each basis
function) and the finite-difference single points start from the AIMD's last wavefunction.
"""

import re
import shutil

import numpy as np
import pytest
import yaml
from ase.data import atomic_numbers
from ase.io import read

from conftest import DFT, REPO, needs_cp2k, snakemake
from mlip_transfer.dynamics.relabel import PROJECT, frame_folder, label_frames
from mlip_transfer.reference.cp2k_output import output_name, wavefunction_name
from mlip_transfer.reference.e0s import read_e0s_eV

pytestmark = [pytest.mark.e2e, needs_cp2k]

LABEL = "c3_24"  # 1 KOH + 6 H2O in an 8 Å box
MODEL = f"ft_{LABEL}"
CUTOFF_RY, REL_CUTOFF_RY = 200, 40
METHOD = {"method": "dft", "dft": {**DFT["dft"], "cutoff_Ry": CUTOFF_RY, "rel_cutoff_Ry": REL_CUTOFF_RY}}
# E0s of the production settings (400 Ry, 10 Å box), measured here: a lower cutoff moves them by < 0.15 eV
PRODUCTION_E0S_EV = {"H": -12.581, "O": -431.591, "K": -767.148}


def dft_config(foundation):
    config = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())
    config.update(
        run_name="dft",
        concentrations=[{"label": LABEL, "n_hydroxide": 1, "n_water": 6, "box_length_A": 8.0}],
        foundation_model={"file": str(foundation)},
        md_reference={"frames": 2, "frames_per_job": 2, "within_percent": 50},
    )
    config["cp2k"].update(**METHOD, relax_max_iterations=1, threads=2)  # one job at a time
    config["cp2k"]["aimd"].update(steps=4, segment_steps=2, equilibration_steps=1)
    config["split"] = {"train": 0.7, "valid": 0.3, "test": 0.0, "gap_frames": 0}
    config["training"].update(seeds=[11], frame_budgets=None, multi_concentration_models=[])
    config["training"]["fine_tune"].update(max_num_epochs=1, batch_size=1)  # 3 training frames
    config["repair"] = []
    config["md"].update(models=[MODEL], concentrations=[LABEL], replicas=1, steps=8)
    # 2–4 fs of AIMD and MD: analysis windows inside them (no analysis runs here; the config must be valid)
    config["analysis"].update(
        equilibration_ps=0.0005, diffusion_window_ps=[0.0005, 0.003], aimd_diffusion_window_ps=[0.0005, 0.0015]
    )
    return config


@pytest.fixture(scope="module")
def dft_run(tmp_path_factory, tiny_run):
    """Fine-tuned from the tiny run's foundation model (xTB-pretrained on H, O and K)."""
    workdir = tmp_path_factory.mktemp("dft_run")
    configfile = workdir / "dft.yaml"
    configfile.write_text(yaml.safe_dump(dft_config(tiny_run / "results" / "tiny" / "models" / "foundation.model")))
    run = workdir / "results" / "dft"
    targets = [f"results/dft/md_reference/{MODEL}/{LABEL}.r0/reference.extxyz", "results/dft/reference/e0s_eV.json"]
    snakemake(*targets, "--cores", "2", "--configfile", str(configfile), workdir=workdir)
    return run


def test_every_cp2k_run_of_the_production_method_converged_with_d3(dft_run):
    outputs = sorted(dft_run.glob("cp2k/**/*.out")) + sorted(dft_run.glob("md_reference/**/*.out"))
    kinds = {p.relative_to(dft_run).parts[1] for p in outputs}
    assert {"atoms", "relax", "aimd", MODEL} <= kinds, kinds  # E0s, relaxation, AIMD, single points
    for output in outputs:
        text = output.read_text()
        assert "PROGRAM ENDED AT" in text, output
        assert "SCF run NOT converged" not in text, output
        method = output.with_suffix(".inp").read_text()  # a LOW print level does not echo basis or potential
        assert all(name in method for name in ("BLYP", "DZVP-MOLOPT-SR-GTH", "GTH-BLYP", "DFTD3")), output
        if "atoms" not in output.parts:  # an isolated atom has no dispersion partner
            dispersion_Ha = [float(e) for e in re.findall(r"Dispersion energy:\s+(\S+)", text)]
            assert dispersion_Ha and all(e < 0 for e in dispersion_Ha), output


def test_isolated_atoms_converge_to_plausible_energies(dft_run):
    e0s = read_e0s_eV(dft_run / "reference" / "e0s_eV.json")
    for element, production in PRODUCTION_E0S_EV.items():
        assert abs(e0s[atomic_numbers[element]] - production) < 0.3, (element, e0s[atomic_numbers[element]])


def test_two_segments_carry_the_wavefunction_into_finite_frames(dft_run):
    runs = [dft_run / "cp2k" / "aimd" / LABEL / f"segment_{k}" / "run" for k in (0, 1)]
    outputs = [next(run.glob("*.out")).read_text() for run in runs]
    assert "EXT_RESTART" in next(runs[1].glob("*.inp")).read_text()
    # CP2K found the first segment's wavefunction ("continues" with the atomic guess when it finds none) ...
    assert "Calculation continues" in outputs[0] and "Calculation continues" not in outputs[1]
    first_scf = [
        int(re.search(r"outer SCF loop converged in\s+\d+ iterations or\s+(\d+) steps", t)[1]) for t in outputs
    ]
    assert first_scf[1] < first_scf[0]  # ... and its first SCF needs fewer steps than the atomic guess
    frames = read(dft_run / "frames" / f"{LABEL}.extxyz", ":")
    assert [f.info["md_step"] for f in frames] == list(range(1, 5))
    for frame in frames:
        assert np.isfinite(frame.info["REF_energy"]) and np.isfinite(frame.arrays["REF_forces"]).all()
    assert (dft_run / "models" / f"{MODEL}.model").exists()
    labelled = read(dft_run / "md_reference" / MODEL / f"{LABEL}.r0" / "reference.extxyz", ":")
    assert len(labelled) == 2 and all(np.isfinite(f.arrays["REF_forces"]).all() for f in labelled)


def test_forces_are_the_derivative_of_the_energy(dft_run, tmp_path):
    """Central differences of CP2K's energy (±0.01 Å) against its forces for three atoms of the AIMD's last
    frame; each displaced single point starts from that frame's wavefunction, as CP2K left it."""
    frame = read(dft_run / "frames" / f"{LABEL}.extxyz", "-1")
    wavefunction = dft_run / "cp2k" / "aimd" / LABEL / "segment_1" / "run" / wavefunction_name("aimd")
    step_A, moved = 0.01, [(0, 0), (1, 1), (3, 2)]  # (atom, axis): the cation, an O, an H
    displaced = []
    for atom, axis in moved:
        for sign in (1, -1):
            copy = frame.copy()
            copy.positions[atom, axis] += sign * step_A
            copy.info["md_step"] = len(displaced)
            frame_folder(tmp_path, len(displaced)).mkdir()
            shutil.copy(wavefunction, frame_folder(tmp_path, len(displaced)) / wavefunction_name(PROJECT))
            displaced.append(copy)
    energies = [
        f.info["REF_energy"] for f in label_frames(displaced, METHOD, tmp_path, command=["cp2k.psmp"], threads=2)
    ]
    for k, (atom, axis) in enumerate(moved):
        finite_difference = -(energies[2 * k] - energies[2 * k + 1]) / (2 * step_A)
        # EPS_SCF 1e-6 bounds the orbital gradient, so forces (first order in it, unlike the energy) carry SCF
        # noise: measured 0.001–0.07 eV/Å here; a unit (×51), sign or atom-order error is far outside 0.1
        assert finite_difference == pytest.approx(frame.arrays["REF_forces"][atom, axis], abs=0.1), (atom, axis)
    restarted = [(frame_folder(tmp_path, k) / output_name(PROJECT)).read_text() for k in range(len(displaced))]
    assert not any("Calculation continues" in text for text in restarted)  # no atomic guess: the wavefunction read
