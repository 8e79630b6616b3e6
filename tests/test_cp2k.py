import numpy as np
import pytest
from ase import Atoms

from conftest import DFT, aimd_tree, needs_cp2k
from mlip_transfer.reference import cp2k, cp2k_output

XTB = {"method": "xtb"}


@pytest.fixture
def water():
    return Atoms("OH2", positions=[[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]], cell=[8, 8, 8], pbc=True)


@pytest.mark.parametrize("method", [XTB, DFT], ids=["xtb", "dft"])
def test_aimd_input_is_valid_cp2k(water, method):
    text = cp2k.render_input(aimd_tree(water, method))
    assert "ENSEMBLE NVT" in text and "TYPE CSVR" in text and "TIMESTEP 0.5" in text
    assert "O 0.00000000 0.00000000 0.00000000" in text
    if method is DFT:
        assert "DZVP-MOLOPT-SR-GTH" in text and "DFTD3" in text and "CUTOFF 400" in text


def test_isolated_atom_is_spin_polarised_and_non_periodic():
    text = cp2k.render_input(cp2k.isolated_atom_input_tree("O", XTB, box_length_A=10))
    assert "MULTIPLICITY 3" in text and "PERIODIC NONE" in text and "UKS" in text


def test_schema_rejects_unknown_keyword():
    with pytest.raises(cp2k.CP2KError, match="schema"):
        cp2k.validate_input("&GLOBAL\n  NOT_A_KEYWORD 1\n&END GLOBAL\n")


def test_unknown_method_is_named():
    with pytest.raises(ValueError, match="cp2k.method"):
        aimd_tree(Atoms("H", cell=[5] * 3), {"method": "pbe"})


def test_final_energy_is_converted_to_eV(tmp_path):
    out = tmp_path / "x.out"
    out.write_text(
        " ENERGY| Total FORCE_EVAL ( QS ) energy [a.u.]:      -1.0\n"
        " ENERGY| Total FORCE_EVAL ( QS ) energy [a.u.]:      -0.5\n"
    )
    assert cp2k_output.final_energy_eV(out) == pytest.approx(-0.5 * 27.211386245988)


@needs_cp2k
def test_real_cp2k_hydrogen_atom_energy_and_installed_schema(tmp_path):
    schema = cp2k.write_input_schema(["cp2k.psmp"], tmp_path / "cp2k_input.xml")
    tree = cp2k.isolated_atom_input_tree("H", XTB, box_length_A=8)
    output = cp2k.run_input(tree, tmp_path / "H", "atom", command=["cp2k.psmp"], threads=1, xmlspec=schema)
    # GFN1-xTB energy of a free H atom: -0.4014 Hartree
    assert cp2k_output.final_energy_eV(output) == pytest.approx(-0.40143 * cp2k_output.HARTREE_EV, abs=1e-3)
    assert np.isfinite(cp2k_output.final_energy_eV(output))


@needs_cp2k
def test_cp2k_starts_without_the_mpi_identity_of_the_slurm_task(monkeypatch):
    """Inside a SLURM task the second CP2K of a job died in MPI_Init (the real run: test_slurm.py)."""
    task = {"PMIX_RANK": "0", "PMIX_NAMESPACE": "slurm.pmix.1.0", "PMI_FD": "5", "SLURM_STEP_ID": "0"}
    task["SLURM_STEPID"] = "0"
    for key, value in {**task, "SLURM_JOB_ID": "7", "OMP_NUM_THREADS": "16"}.items():
        monkeypatch.setenv(key, value)
    env = cp2k.cp2k_environment(threads=2)
    assert not set(task) & set(env)
    assert env["SLURM_JOB_ID"] == "7" and env["OMP_NUM_THREADS"] == "2"  # a launcher's srun still finds its job


def test_failed_cp2k_run_raises_with_output_tail(tmp_path):
    (tmp_path / "bad.inp").write_text(
        "&GLOBAL\n RUN_TYPE ENERGY\n&END GLOBAL\n&FORCE_EVAL\n METHOD QS\n&END FORCE_EVAL\n"
    )
    with pytest.raises(cp2k.CP2KError, match="CP2K failed"):
        cp2k.run_cp2k(["cp2k.psmp"], tmp_path / "bad.inp", tmp_path / "bad.out", threads=1)


@needs_cp2k
def test_dft_isolated_atom_minimises_with_ot_and_integer_occupations():
    """Diagonalisation of the triplet O atom never converged with the production method: OT, no smearing."""
    text = cp2k.render_input(cp2k.isolated_atom_input_tree("O", DFT, box_length_A=10))
    assert "MINIMIZER CG" in text and "PRECONDITIONER FULL_KINETIC" in text
    assert "SMEAR" not in text and "MIXING" not in text and "OUTER_SCF" not in text
