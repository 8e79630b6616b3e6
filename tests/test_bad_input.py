"""Bad input fails early with a message naming the config key or file and what is wrong.

Config cases run the same two checks the Snakefile runs before any job: the JSON schema
(:func:`mlip_transfer.validation.check_schema`, through ``snakemake.utils.validate``) and
:func:`mlip_transfer.validation.check_config`.
"""

import copy

import pytest
import torch
import yaml
from ase.io import write

from conftest import DFT, REPO, needs_cp2k
from mlip_transfer.analysis.solution import SolutionAnalysis
from mlip_transfer.errors import ConfigError
from mlip_transfer.files import sha256
from mlip_transfer.geometry import chunks_from_atoms
from mlip_transfer.models import mace
from mlip_transfer.reference import cp2k, cp2k_output
from mlip_transfer.reference.box import Composition, build_box
from mlip_transfer.reference.frames import FramesError, cp2k_frames
from mlip_transfer.validation import check_config, check_model_files, check_schema

TINY = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())
PRODUCTION = yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def check(config):
    check_schema(config, REPO / "config" / "schema.yaml")
    check_config(config)


def mutated(change, base=TINY):
    config = copy.deepcopy(base)
    change(config)
    return config


def set_path(path, value):
    def change(config):
        *parents, last = path
        node = config
        for key in parents:
            node = node[key]
        node[last] = value

    return change


def delete(path):
    def change(config):
        *parents, last = path
        node = config
        for key in parents:
            node = node[key]
        del node[last]

    return change


SCHEMA_CASES = {
    "unknown top-level key": (
        set_path(["temprature_K"], 300),
        "config key '(top level)': Additional properties are not allowed ('temprature_K'",
    ),
    "unknown nested key": (set_path(["md", "stepz"], 10), "config key 'md': Additional properties are not allowed"),
    "wrong type": (set_path(["md", "steps"], "many"), "config key 'md.steps': 'many' is not of type 'integer'"),
    "an ASE source without its force unit": (
        set_path(
            ["concentrations", 0],
            {
                "label": "c1",
                "imported": {
                    "training": {"format": "ase", "files": ["a.xyz"], "equilibration_ps": 0, "energy_unit": "eV"}
                },
            },
        ),
        "config key 'concentrations[0].imported.training': 'forces_unit' is a required property",
    ),
    "the same training seed twice": (
        set_path(["training", "seeds"], [1, 1]),
        "config key 'training.seeds': [1, 1] has non-unique elements",
    ),
    "zero concentration": (
        set_path(["concentrations"], [{"label": "c0", "molarity_mol_per_L": 0.0, "n_oxygen": 96}]),
        "0.0 is less than or equal to the minimum of 0",
    ),
    "negative concentration": (
        set_path(["concentrations"], [{"label": "cneg", "molarity_mol_per_L": -1.0, "n_oxygen": 96}]),
        "-1.0 is less than or equal to the minimum of 0",
    ),
    "label unsafe in paths and shells": (
        set_path(["concentrations", 0, "label"], "c3;rm -rf"),
        "'c3;rm -rf' does not match '^[A-Za-z][A-Za-z0-9_]*$'",
    ),
    "label with a slash": (set_path(["concentrations", 0, "label"], "a/b"), "does not match"),
    "unknown CP2K method": (set_path(["cp2k", "method"], "pbe"), "'pbe' is not one of ['xtb', 'dft']"),
    "missing required section": (delete(["md"]), "'md' is a required property"),
    "negative AIMD steps": (set_path(["cp2k", "aimd", "steps"], -3), "-3 is less than the minimum of 1"),
    "unknown thermostat": (set_path(["md", "thermostat", "type"], "berendsen"), "'berendsen' is not one of"),
    "unknown training device": (set_path(["training", "device"], "tpu"), "'tpu' is not one of"),
    "SLURM runtime not in minutes": (
        set_path(["cluster", "resources", "cp2k", "runtime"], "1 day"),
        "'1 day' is not of type 'integer'",
    ),
    "SLURM account unsafe in a shell": (
        set_path(["cluster", "account"], "chem; rm -rf ~"),
        "'chem; rm -rf ~' does not match",
    ),
    "unknown kind of SLURM job": (set_path(["cluster", "resources", "gpu"], {"gpu": 1}), "'gpu' was unexpected"),
    "AIMD segment of zero steps": (set_path(["cp2k", "aimd", "segment_steps"], 0), "0 is less than the minimum of 1"),
    "bad sha256": (
        set_path(["foundation_model"], {"file": "f.model", "sha256": "abc"}),
        "'abc' does not match",
    ),
}

CONFIG_CASES = {
    "given E0s of an element not in the study": (
        set_path(
            ["reference_energies"], {"source": "a run", "e0s_eV": {"H": -12.6, "O": -431.6, "K": -767.1, "Na": 1.0}}
        ),
        "config key 'reference_energies.e0s_eV': ['Na'] are not elements of KOH(aq)",
    ),
    "given E0s without the cation's": (
        set_path(["reference_energies"], {"source": "a BLYP-D3 run", "e0s_eV": {"H": -12.58, "O": -431.59}}),
        "config key 'reference_energies.e0s_eV': no energy for element(s) ['K'] of KOH(aq)",
    ),
    "above solubility without opt-in": (
        lambda c: c.pop("allow_supersaturated"),
        "config key 'foundation_model.pretrain.system': pretrain at 18.27 mol/L is above KOH's solubility",
    ),
    "composition does not match its stated molarity": (
        set_path(["concentrations", 0, "molarity_mol_per_L"], 6.26),
        "config key 'concentrations[0].molarity_mol_per_L': 1 KOH + 14 H2O in a 7.60 Å box is 3.78 mol/L, "
        "not the stated 6.26 mol/L",
    ),
    "no box in the oxygen window reaches the molarity": (
        set_path(["concentrations", 0], {"label": "c3_78", "molarity_mol_per_L": 0.56, "n_oxygen": 20}),
        "config key 'concentrations[0].molarity_mol_per_L': no box of 20 ± 8 oxygens is within 2 % of 0.56 mol/L; "
        "closest: 1 KOH + 27 H2O (2.009 mol/L)",
    ),
    "no test set at all": (
        lambda c: c.update(test_trajectory=None, split={"train": 0.8, "valid": 0.2, "test": 0.0, "gap_frames": 0}),
        "config key 'split.test': is 0 and there is no test_trajectory",
    ),
    "test AIMD all equilibration": (
        set_path(["test_trajectory", "equilibration_steps"], 12),
        "config key 'test_trajectory.equilibration_steps': 12 equilibration steps leave no frames",
    ),
    "multihead fine-tuning without replay data": (
        set_path(["training", "protocol"], "multihead_replay"),
        "config key 'training.replay_file': protocol 'multihead_replay' replays the foundation model's training data",
    ),
    "duplicate concentration labels": (
        set_path(["concentrations", 1, "label"], "c3_78"),
        "config key 'concentrations[1].label': label 'c3_78' is already used by concentrations[0].label",
    ),
    "reserved label": (set_path(["concentrations", 0, "label"], "AIMD"), "label 'AIMD' is reserved"),
    "box shorter than twice the H-bond cutoff": (
        set_path(["analysis", "donor_acceptor_cutoff_A"], 4.0),
        "config key 'analysis.donor_acceptor_cutoff_A': 4.0 Å is not below half the c3_78 box",
    ),
    "box shorter than twice the K-O cutoff": (
        set_path(["concentrations", 1, "box_length_A"], 6.0),
        "config key 'analysis.donor_acceptor_cutoff_A': 3.5 Å is not below half the c11_34 box (3.00 Å",
    ),
    "dft method without dft section": (
        set_path(["cp2k", "method"], "dft"),
        "config key 'cp2k.dft': method 'dft' needs",
    ),
    "equilibration longer than the AIMD": (
        set_path(["cp2k", "aimd", "equilibration_steps"], 30),
        "config key 'cp2k.aimd.equilibration_steps': 30 equilibration steps leave no frames of a 30-step AIMD",
    ),
    "split fractions do not add up": (
        set_path(["split", "test"], 0.5),
        "config key 'split': train + valid + test must add up to 1",
    ),
    "split left empty": (
        set_path(["split", "gap_frames"], 12),
        "config key 'split': 27 AIMD frames after equilibration: 27 frames (gap 12) leave the valid, test split empty",
    ),
    "training without a foundation model": (
        set_path(["foundation_model"], None),
        "config key 'foundation_model': every fine-tune starts from a foundation model",
    ),
    "a foundation model pretrained where nothing is trained": (
        lambda c: c.update(training=None),
        "config key 'foundation_model.pretrain': pretraining a foundation model needs training settings",
    ),
    "nothing trained and no model to judge": (
        lambda c: c.update(training=None, foundation_model=None),
        "config key 'training': is null (nothing trained) and there is no foundation_model or external_models",
    ),
    "multi model with unknown concentration": (
        set_path(["training", "multi_concentration_models", 0, "concentrations"], ["c3_78", "c9_99"]),
        "config key 'training.multi_concentration_models[0].concentrations': unknown concentration labels ['c9_99']",
    ),
    "multi model name collides": (
        set_path(["training", "multi_concentration_models", 0, "name"], "ft_c3_78"),
        "collides with the names 'foundation' and 'ft_<label>'",
    ),
    "frame budget above the training frames": (
        set_path(["training", "frame_budgets", "frames"], [4, 40]),
        "config key 'training.frame_budgets.frames': [40] exceed the 17 training frames of c3_78",
    ),
    "fine-tune batch larger than the smallest training set": (
        set_path(["training", "fine_tune", "batch_size"], 5),
        "config key 'training.fine_tune.batch_size': 5 is more than the 4 training frames of the smallest",
    ),
    "frame budget of an unknown concentration": (
        set_path(["training", "frame_budgets", "concentrations"], ["c9_99"]),
        "config key 'training.frame_budgets.concentrations': unknown concentration labels ['c9_99']",
    ),
    "MD with an unknown model": (
        set_path(["md", "models"], ["ft_c9_99"]),
        "config key 'md.models[0]': unknown model 'ft_c9_99'",
    ),
    "MD at an unknown concentration": (
        set_path(["md", "concentrations"], ["c1"]),
        "config key 'md.concentrations[0]': unknown concentration label 'c1'",
    ),
    "thermostat without its parameter": (
        set_path(["md", "thermostat"], {"type": "langevin"}),
        "config key 'md.thermostat.friction_per_fs': the langevin thermostat needs friction_per_fs",
    ),
    "diffusion window beyond the MD": (
        set_path(["analysis", "diffusion_window_ps"], [0.002, 1.0]),
        "config key 'analysis.diffusion_window_ps': the fit window ends at 1.0 ps",
    ),
    "diffusion window reversed": (
        set_path(["analysis", "aimd_diffusion_window_ps"], [0.008, 0.002]),
        "config key 'analysis.aimd_diffusion_window_ps': window start 0.008 ps is not before its end",
    ),
    "viscosity for an unknown label": (
        set_path(["analysis", "viscosity_mPa_s"], {"c1": 1.0}),
        "config key 'analysis.viscosity_mPa_s': unknown concentration labels ['c1']",
    ),
    "repair by committee of a base without one": (
        set_path(["training", "committee_models"], ["ft_c11_34"]),
        "config key 'repair[0].selection': committee disagreement needs ft_c3_78 trained with two or more seeds",
    ),
    "repair of an unknown model": (
        set_path(["repair", 0, "base"], "ft_c5"),
        "config key 'repair[0].base': unknown model 'ft_c5'",
    ),
    "repair at the base's own concentration": (
        set_path(["repair", 0, "target"], "c3_78"),
        "config key 'repair[0].target': c3_78 is where ft_c3_78 was trained",
    ),
    "repair budget beyond the target's training block": (
        set_path(["repair", 0, "frames"], [2, 40]),
        "config key 'repair[0].frames': 40 frames asked of the 17 of c11_34's training block",
    ),
    "active-learning round without the base's MD there": (
        set_path(["md", "models"], ["ft_c11_34"]),
        "config key 'repair[0].md_round': draws from ft_c3_78's own MD at c11_34: add them to md.models",
    ),
    "external base replaying frames nobody named": (
        lambda config: config.update(
            external_models=[{"name": "theirs", "file": "theirs.model", "source": "a collaborator"}],
            repair=[{"base": "theirs", "target": "c11_34", "frames": [2], "selection": ["even"]}],
        ),
        "config key 'repair[0].replay_file': theirs was not trained here: name the frames of its training",
    ),
    "a model named like a repaired one": (
        set_path(["training", "multi_concentration_models", 0, "name"], "rp_mine"),
        "collides with the names",
    ),
}


@pytest.mark.parametrize("change, message", SCHEMA_CASES.values(), ids=SCHEMA_CASES.keys())
def test_schema_rejects(change, message):
    with pytest.raises(ConfigError) as error:
        check(mutated(change))
    assert message in str(error.value) and "\n" not in str(error.value)  # one line, not the schema


@pytest.mark.parametrize("change, message", CONFIG_CASES.values(), ids=CONFIG_CASES.keys())
def test_config_check_rejects(change, message):
    with pytest.raises(ConfigError) as error:
        check(mutated(change))
    assert message in str(error.value)


def test_shipped_configs_pass_and_production_must_opt_into_supersaturation():
    for name in ("config.yaml", "demo.yaml", "demo_naoh.yaml", "tiny.yaml"):
        check(yaml.safe_load((REPO / "config" / name).read_text()))
    overlay = yaml.safe_load((REPO / "config" / "demo_intervals.yaml").read_text())  # on top of the demo
    check({**yaml.safe_load((REPO / "config" / "demo.yaml").read_text()), **overlay})
    with pytest.raises(ConfigError, match=r"'concentrations\[6\]': c17_98 at 17.95 mol/L is above"):
        check(mutated(lambda c: c.pop("allow_supersaturated"), PRODUCTION))


def test_missing_cp2k_binary_is_named(tmp_path):
    with pytest.raises(cp2k.CP2KError, match="cp2k.command: CP2K binary 'cp2k.nonexistent' not found on PATH"):
        cp2k.write_input_schema(["cp2k.nonexistent"], tmp_path / "schema.xml")


@needs_cp2k
def test_unknown_basis_set_is_rejected_by_cp2k(tmp_path):
    method = copy.deepcopy(DFT)
    method["dft"].update(dispersion="none", cutoff_Ry=100, rel_cutoff_Ry=20)  # small: CP2K stops at the basis
    method["dft"]["basis_sets"]["H"] = "NO-SUCH-BASIS"
    tree = cp2k.isolated_atom_input_tree("H", method, box_length_A=6)
    with pytest.raises(cp2k.CP2KError, match="NO-SUCH-BASIS"):
        cp2k.run_input(tree, tmp_path, "atom", command=["cp2k.psmp"], threads=1)


def test_missing_foundation_model_file(tmp_path):
    with pytest.raises(
        FileNotFoundError, match="foundation_model.file .*absent.model does not exist and no foundation_model.url"
    ):
        mace.provide_model(tmp_path / "absent.model", None, None, tmp_path / "out.model")


def test_foundation_model_checksum_mismatch(tmp_path):
    (tmp_path / "f.model").write_bytes(b"weights")
    with pytest.raises(
        ValueError, match="foundation_model.file .*f.model: sha256 .* differs from foundation_model.sha256"
    ):
        mace.provide_model(tmp_path / "f.model", None, "0" * 64, tmp_path / "out.model")


def test_corrupt_foundation_model(tmp_path):
    (tmp_path / "f.model").write_bytes(b"not a torch file")
    with pytest.raises(mace.ModelFileError, match="f.model is not a readable MACE model"):
        mace.check_elements(tmp_path / "f.model", [1, 8, 19])


class HydrogenOxygenModel(torch.nn.Module):
    """Stands in for a MACE model trained on H and O only (MACE keeps its elements in ``atomic_numbers``)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("atomic_numbers", torch.tensor([1, 8]))


def test_foundation_model_lacking_an_element(tmp_path):
    torch.save(HydrogenOxygenModel(), tmp_path / "f.model")
    with pytest.raises(mace.ModelFileError, match=r"lacks elements \[19\] \(atomic numbers\) of the data"):
        mace.check_elements(tmp_path / "f.model", [1, 8, 19])


def test_a_foundation_model_that_changed_since_it_was_provided_is_refused(tmp_path):
    """A model file is code to torch.load: a file that differs from the hash recorded when it was first
    provided is refused, by the provider and by every loader, naming both hashes."""
    (tmp_path / "f.model").write_bytes(b"weights")
    copy = mace.provide_model(tmp_path / "f.model", None, None, tmp_path / "out.model")
    recorded = sha256(tmp_path / "f.model")
    assert mace.record_file(copy).read_text().strip() == recorded
    (tmp_path / "f.model").write_bytes(b"other weights")
    with pytest.raises(mace.ModelFileError, match=f"differs from the {recorded} recorded in .*out.model.sha256"):
        mace.provide_model(tmp_path / "f.model", None, None, tmp_path / "out.model")
    copy.write_bytes(b"tampered")
    with pytest.raises(mace.ModelFileError, match=f"out.model: sha256 .* differs from the {recorded} recorded"):
        mace.load_module(copy)
    # a new foundation model on purpose: its hash in the config
    new = sha256(tmp_path / "f.model")
    mace.provide_model(tmp_path / "f.model", None, new, tmp_path / "out.model")
    assert mace.record_file(copy).read_text().strip() == new


def test_external_models_are_checked_before_any_job(tmp_path):
    """A model trained elsewhere: its own name, known labels, an existing file of the configured hash that
    covers every element of the test sets; each refusal names the key."""
    good = mace.random_model(tmp_path / "theirs.model", channels=8, max_L=0, num_interactions=1)
    torch.save(HydrogenOxygenModel(), tmp_path / "no_K.model")

    def with_external(**entry):
        entry = {"name": "theirs", "file": str(good), "source": "a collaborator", **entry}
        return mutated(lambda c: c.update(external_models=[entry]))

    accepted = with_external(sha256=sha256(good), training_concentrations=["c3_78"])
    check(accepted)
    check_model_files(accepted)
    (tmp_path / "theirs.model.sha256").write_text("not our record\n")  # a sidecar of theirs is not our record
    check_model_files(accepted)
    cases = [
        (with_external(name="ft_c3_78"), r"external_models\[0\].name': 'ft_c3_78' is already the name"),
        (with_external(name="multi_both"), r"external_models\[0\].name': 'multi_both' is already"),
        (with_external(name="AIMD"), r"external_models\[0\].name': 'AIMD' is already"),
        (with_external(training_concentrations=["c9"]), r"external_models\[0\].training_concentrations': unknown"),
    ]
    for config, message in cases:
        with pytest.raises(ConfigError, match=message):
            check(config)
    files = [  # checked where Snakemake is started (onstart), never while parsing inside a cluster job
        (with_external(file=str(tmp_path / "absent.model")), r"external_models\[0\].file': .*absent.model does not"),
        (with_external(sha256="0" * 64), r"external_models\[0\].sha256': .*theirs.model has sha256"),
        (with_external(file=str(tmp_path / "no_K.model")), r"external_models\[0\].file': .*lacks elements \[19\]"),
    ]
    for config, message in files:
        check(config)
        with pytest.raises(ConfigError, match=message):
            check_model_files(config)


def write_cp2k_files(folder, energies=(-17.0, -17.1), forces_value="1.0"):
    for name, value in (("p.xyz", "0.0"), ("f.xyz", forces_value)):
        with open(folder / name, "w") as f:
            for step in range(2):
                f.write(f"1\n i = {step}, time = 0.0, E = -17.0\n H {value} 0.0 0.0\n")
    with open(folder / "e.ener", "w") as f:
        for step, energy in enumerate(energies):
            f.write(f"{step} 0.0 0.0 300.0 {energy} 0.0 0.0\n")


def test_nan_in_reference_data(tmp_path):
    write_cp2k_files(tmp_path, forces_value="nan")
    with pytest.raises(FramesError, match="step 0: NaN or infinite energy or forces"):
        cp2k_frames(tmp_path / "p.xyz", tmp_path / "f.xyz", tmp_path / "e.ener", [5.0] * 3)


def test_nonorthorhombic_cell_is_refused(tmp_path):
    atoms = build_box(Composition(1, 8, "K"), 7.0, seed=1)
    atoms.set_cell([[7, 0, 0], [1, 7, 0], [0, 0, 7]], scale_atoms=False)
    write(tmp_path / "x.extxyz", atoms)
    with pytest.raises(ValueError, match="orthorhombic"):
        SolutionAnalysis(frame_interval_ps=0.01, cation="K").run(chunks_from_atoms([atoms]))


def test_unconverged_scf_is_an_error():
    ended = "\n PROGRAM ENDED AT 2026\n"
    cp2k_output.check_finished(" *** SCF run converged in    12 steps ***" + ended, "x.out", "x.inp", 0)
    with pytest.raises(cp2k.CP2KError, match="x.out: the SCF did not converge 1 time"):
        unconverged = " *** SCF run converged in    12 steps ***\n  *** SCF run NOT converged ***"
        cp2k_output.check_finished(unconverged + ended, "x.out", "x.inp", 0)
