"""Checks of a configuration that JSON schema cannot express, run before any job starts.

:func:`check_config` raises :class:`ConfigError` naming the config key and what is wrong: references
between sections (models, labels), physical limits (solubility, box length against cutoffs), and
settings that would only fail hours later (no frames left after equilibration, an empty fit window).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from . import names
from .errors import ConfigError
from .models.catalogue import fine_tune_protocols
from .reference.box import BoxError
from .reference.cp2k import data_dir, missing_basis_or_potential
from .reference.imported import ImportedDataError
from .reference.splits import SplitError
from .study import Study
from .units import fs_to_ps


def check_schema(config: dict, schema_file: str | Path) -> None:
    """Validate ``config`` against the JSON schema and fill in its defaults (:func:`snakemake.utils.validate`);
    a violation is one :class:`ConfigError` naming the key and the problem, not the schema."""
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    try:
        validate(config, str(schema_file))
    except WorkflowError as error:
        if not isinstance(error.__context__, ValidationError):
            raise
        cause = best_match([error.__context__])  # the most specific error in a oneOf/anyOf's branches
        key = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in cause.absolute_path)
        problem = cause.message if len(cause.message) <= 300 else f"{cause.message[:300]}…"
        raise ConfigError(f"config key '{key.lstrip('.') or '(top level)'}': {problem}") from None


def check_config(config: Mapping) -> None:
    """Raise :class:`ConfigError` for the first problem found (the config validated against the schema)."""
    _labels(config)
    try:
        study = Study(config)
    except (BoxError, ImportedDataError) as error:  # no box near a molarity; files that cannot be imported
        raise ConfigError(str(error)) from error
    checks = (
        *(_systems, _cp2k, _reference_energies, _test_trajectory, _split, _training, _models, _external_models),
        *(_md, _analysis, _frame_checks, _repair),
    )
    for check in checks:
        check(config, study)


def _fail(key: str, problem: str) -> None:
    raise ConfigError(f"config key '{key}': {problem}")


def _labels(config: Mapping) -> None:
    seen: dict[str, str] = {}
    entries = [(f"concentrations[{i}].label", c["label"]) for i, c in enumerate(config["concentrations"])]
    pretrain = (config["foundation_model"] or {}).get("pretrain")
    if pretrain:
        entries.append(("foundation_model.pretrain.system.label", pretrain["system"]["label"]))
        if "imported" in pretrain["system"]:
            _fail("foundation_model.pretrain.system.imported", "the pretraining AIMD is computed, not imported")
    for key, label in entries:
        if label in seen:
            _fail(key, f"label {label!r} is already used by {seen[label]}")
        if label == names.AIMD_SOURCE:
            _fail(key, "label 'AIMD' is reserved for the reference analysis")
        seen[label] = key


def _systems(config: Mapping, study: Study) -> None:
    hydroxide = study.hydroxide
    solubility = hydroxide.solubility_mol_per_L
    tolerance = config["composition_search"]["molarity_tolerance"]
    for label, system in study.reference.systems.items():
        key, stated, n = system.key, system.stated_molarity_mol_per_L, system.composition
        actual = system.molarity_mol_per_L
        # a molarity stated beside an explicit composition must be the box's (with n_oxygen it chose it)
        if system.explicit_composition and stated and abs(actual - stated) > tolerance * stated:
            box = (
                f"the {' × '.join(f'{x:.2f}' for x in system.cell_A)} Å cell of {system.source.first_file}"
                if system.source
                else f"a {system.cubic_box_length_A:.2f} Å box"
            )
            _fail(
                f"{key.split('.imported')[0]}.molarity_mol_per_L",
                f"{n} in {box} is {actual:.2f} mol/L, not the stated {stated} mol/L (tolerance {100 * tolerance:g} %)",
            )
        molarity = system.molarity_mol_per_L
        if solubility and molarity > solubility and not config["allow_supersaturated"]:
            _fail(
                key,
                f"{label} at {molarity:.2f} mol/L is above {hydroxide.formula}'s solubility ({solubility} mol/L at "
                "25 °C); "
                "set allow_supersaturated: true to model a supersaturated solution on purpose",
            )


def _cp2k(config: Mapping, study: Study) -> None:
    cp2k = config["cp2k"]
    if not cp2k:
        _no_cp2k(config, study)
        return
    if cp2k["method"] == "dft" and "dft" not in cp2k:
        _fail("cp2k.dft", "method 'dft' needs a cp2k.dft section (functional, basis sets, potentials, cutoffs)")
    if cp2k["method"] == "dft":
        for kind in ("basis_sets", "potentials"):
            missing = [e for e in study.hydroxide.elements if e not in cp2k["dft"][kind]]
            if missing:
                _fail(f"cp2k.dft.{kind}", f"no entry for element(s) {missing} of {study.hydroxide.formula}(aq)")
        folder = data_dir()  # None where CP2K's data files are not here (a login node without the module)
        problem = folder and missing_basis_or_potential(cp2k["dft"], study.hydroxide.elements, folder)
        if problem:
            _fail(*problem)
    aimd = cp2k["aimd"]
    if aimd["equilibration_steps"] >= aimd["steps"]:
        _fail(
            "cp2k.aimd.equilibration_steps",
            f"{aimd['equilibration_steps']} equilibration steps leave no frames of a {aimd['steps']}-step AIMD",
        )
    if aimd["print_every"] > aimd["steps"] - aimd["equilibration_steps"]:
        _fail("cp2k.aimd.print_every", "prints fewer than one frame after equilibration")


def _no_cp2k(config: Mapping, study: Study) -> None:
    """A study without CP2K imports every AIMD, is given its E0s and starts from a foundation model file."""
    if study.reference.pretrain:
        _fail("foundation_model.pretrain", "pretraining runs a CP2K AIMD; with cp2k: null give foundation_model.file")
    computed = [s for s in study.reference.systems.values() if not s.source]
    if computed:
        _fail(
            computed[0].key,
            f"{computed[0].label} has no imported AIMD and cp2k is null: import its frames "
            "(imported.training / .test) or configure cp2k to compute them",
        )
    if not config["reference_energies"]:
        _fail(
            "reference_energies",
            "the study imports its AIMD and has no CP2K method (cp2k: null) to compute the isolated-atom "
            "energies: give them (e0s_eV per element, with their source)",
        )


def _test_trajectory(config: Mapping, study: Study) -> None:
    test, reference = config["test_trajectory"], study.reference
    if reference.test_trajectories and len(reference.test_trajectories) < len(reference.concentrations):
        lacking = sorted(set(reference.concentrations) - set(reference.test_trajectories))
        _fail(
            reference.concentrations[lacking[0]].key,
            f"{lacking} have no independent test trajectory while others do (test_trajectory, imported.test): "
            "every model is judged on the same kind of test set, so give every concentration one or none",
        )
    for system in reference.test_trajectories.values():
        if system.source and reference.frames(system.label) < 2:
            _fail(system.key, f"gives {reference.frames(system.label)} test frame(s) after equilibration_ps")
    for label, test_system in reference.test_trajectories.items():
        _no_shared_files(reference.concentrations[label], test_system)
    if not test:
        if config["split"]["test"] == 0 and not reference.test_trajectories:
            _fail("split.test", "is 0 and there is no test_trajectory: no model would have a test set")
        return
    if test["equilibration_steps"] >= test["steps"]:
        _fail(
            "test_trajectory.equilibration_steps",
            f"{test['equilibration_steps']} equilibration steps leave no frames of a {test['steps']}-step test AIMD",
        )
    computed = [s for s in reference.test_trajectories.values() if not s.source]
    if not computed:
        return
    print_every = config["cp2k"]["aimd"]["print_every"]
    frames = min(reference.frames(s.label) for s in computed)
    if frames < 2:
        _fail(
            "test_trajectory.steps",
            f"gives {frames} test frame(s) after equilibration (a frame every {print_every} steps)",
        )


def _no_shared_files(training, test) -> None:
    """An imported test trajectory read from a file of its training trajectory is not independent of it."""
    if not (training.source and test.source):
        return
    files = {Path(f).resolve() for paths in training.source.input_files().values() for f in paths}
    shared = [f for paths in test.source.files.values() for f in paths if Path(f).resolve() in files]
    if shared:
        _fail(
            test.key,
            f"{shared[0]} is also a file of the training trajectory: the test trajectory would share its frames",
        )


def _split(config: Mapping, study: Study) -> None:
    split = config["split"]
    total = split["train"] + split["valid"] + split["test"]
    if not np.isclose(total, 1.0):
        _fail("split", f"train + valid + test must add up to 1, got {total:g}")
    reference, n_train = study.reference, {}
    for label, system in reference.concentrations.items():
        try:  # the split the workflow will make of every concentration's AIMD
            n_train[label] = reference.split_sizes(label)["train"]
        except SplitError as error:
            if system.source:
                h = system.header
                _fail(
                    system.key,
                    f"{system.source.first_file} holds {h.written} frames ({h.duration_ps:g} ps); after "
                    f"equilibration_ps and stride {h.frames} are left: {error}",
                )
            _fail("split", f"{reference.frames(label)} AIMD frames after equilibration: {error}")
    if not study.models.trains:
        return
    budgets = config["training"]["frame_budgets"]
    if budgets:
        unknown = sorted(set(budgets["concentrations"]) - set(study.reference.concentrations))
        if unknown:
            _fail("training.frame_budgets.concentrations", f"unknown concentration labels {unknown}")
        fewest = min(budgets["concentrations"], key=n_train.get)
        too_many = [n for n in budgets["frames"] if n > n_train[fewest]]
        if too_many:
            _fail(
                "training.frame_budgets.frames",
                f"{too_many} exceed the {n_train[fewest]} training frames of {fewest}",
            )
    # mace_run_train drops the last incomplete batch: fewer frames than a batch train on nothing, and it
    # fails with a bare torch error ("expected a non-empty list of Tensors")
    batch = study.models.fine_tune_hyperparameters()["batch_size"]
    smallest = min([*n_train.values(), *(budgets["frames"] if budgets else [])])
    if smallest < batch:
        _fail(
            "training.fine_tune.batch_size",
            f"{batch} is more than the {smallest} training frames of the smallest training set",
        )


def _training(config: Mapping, study: Study) -> None:
    training = config["training"]
    if training is None:
        if study.reference.pretrain:
            _fail("foundation_model.pretrain", "pretraining a foundation model needs training settings: give training")
        if not study.models.models:
            _fail(
                "training",
                "is null (nothing trained) and there is no foundation_model or external_models: no model to judge",
            )
        return
    if not study.models.has_foundation:
        _fail("foundation_model", "every fine-tune starts from a foundation model: give its file or pretrain one")
    protocol = fine_tune_protocols()[training["protocol"]]
    if protocol["multihead"] and not training["replay_file"]:
        _fail(
            "training.replay_file",
            f"protocol {training['protocol']!r} replays the foundation model's training data on a second head: "
            "give a local extended-XYZ file of it (e.g. made with mace_finetuning_select on the login node)",
        )
    if training["replay_file"] and not protocol["multihead"]:
        _fail("training.replay_file", f"is only used by protocol multihead_replay, not {training['protocol']!r}")


def _models(config: Mapping, study: Study) -> None:
    labels = set(study.reference.concentrations)
    for i, model in enumerate((config["training"] or {}).get("multi_concentration_models", [])):
        key = f"training.multi_concentration_models[{i}]"
        if (
            model["name"] in (names.FOUNDATION, names.AIMD_SOURCE)
            or names.ModelName.parse(model["name"]).concentration is not None
            or names.could_be_repaired(model["name"])
        ):
            _fail(
                f"{key}.name",
                f"{model['name']!r} collides with the names {names.FOUNDATION!r} and {names.fine_tune('<label>')!r}",
            )
        unknown = sorted(set(model["concentrations"]) - labels)
        if unknown:
            _fail(f"{key}.concentrations", f"unknown concentration labels {unknown}; labels are {sorted(labels)}")
    committees = (config["training"] or {}).get("committee_models") or []
    unknown = sorted(set(committees) - set(study.models.trained_models))
    if unknown:
        _fail(
            "training.committee_models", f"unknown models {unknown}; trained models are {study.models.trained_models}"
        )


def _reference_energies(config: Mapping, study: Study) -> None:
    given = config["reference_energies"]
    if given:
        missing = [e for e in study.hydroxide.elements if e not in given["e0s_eV"]]
        if missing:
            _fail("reference_energies.e0s_eV", f"no energy for element(s) {missing} of {study.hydroxide.formula}(aq)")
        foreign = sorted(set(given["e0s_eV"]) - set(study.hydroxide.elements))
        if foreign:
            _fail("reference_energies.e0s_eV", f"{foreign} are not elements of {study.hydroxide.formula}(aq)")


def _external_models(config: Mapping, study: Study) -> None:
    """Models trained elsewhere: a name of their own and known labels (their files: :func:`check_model_files`)."""
    taken = [names.FOUNDATION, names.AIMD_SOURCE, *study.models.trained_models]
    for i, model in enumerate(config["external_models"]):
        key, name = f"external_models[{i}]", model["name"]
        if name in taken or names.ModelName.parse(name).concentration is not None or names.could_be_repaired(name):
            _fail(f"{key}.name", f"{name!r} is already the name of a model of this study, or could be one")
        taken.append(name)
        unknown = sorted(set(model["training_concentrations"]) - set(study.reference.concentrations))
        if unknown:
            _fail(f"{key}.training_concentrations", f"unknown concentration labels {unknown}")


def check_model_files(config: Mapping) -> None:
    """Before any job, where Snakemake is started (never inside a cluster job, whose node may not see them):
    each external model's file exists, has the configured SHA-256 and covers every element of the study.
    Loading a model takes seconds."""
    from .chemistry import Hydroxide
    from .files import sha256
    from .models.mace import ModelFileError, check_elements

    for i, model in enumerate(config["external_models"]):
        key, file = f"external_models[{i}]", Path(model["file"])
        if not file.is_file():
            _fail(f"{key}.file", f"{file} does not exist")
        if model["sha256"] and sha256(file) != model["sha256"]:
            _fail(f"{key}.sha256", f"{file} has sha256 {sha256(file)}, not the configured {model['sha256']}")
        try:
            check_elements(file, Hydroxide(config["cation"]).atomic_numbers, recorded=False)
        except ModelFileError as error:
            _fail(f"{key}.file", str(error))


def _md(config: Mapping, study: Study) -> None:
    md, models, labels = config["md"], study.models.models, set(study.reference.concentrations)
    for i, model in enumerate(md["models"]):
        if model not in models:
            _fail(f"md.models[{i}]", f"unknown model {model!r}; models are {models}")
    for i, label in enumerate(md["concentrations"]):
        if label not in labels:
            _fail(f"md.concentrations[{i}]", f"unknown concentration label {label!r}; labels are {sorted(labels)}")
    for label in md["concentrations"]:
        back = round((md["replicas"] - 1) * md["replica_spacing_ps"] / study.reference.frame_interval_ps(label))
        frames = study.reference.frames(label)
        if back >= frames:
            _fail(
                "md.replica_spacing_ps",
                f"{md['replicas']} replicas {md['replica_spacing_ps']} ps apart start up to {back} AIMD frames "
                f"before the last, but the AIMD of {label} has {frames} after equilibration",
            )
    needed = {"bussi": "time_constant_fs", "langevin": "friction_per_fs"}[md["thermostat"]["type"]]
    if needed not in md["thermostat"]:
        _fail(f"md.thermostat.{needed}", f"the {md['thermostat']['type']} thermostat needs {needed}")
    md_ps = fs_to_ps(md["steps"] * md["timestep_fs"])
    window = config["analysis"]["diffusion_window_ps"]
    if window[1] + config["analysis"]["equilibration_ps"] > md_ps + 1e-9:
        _fail(
            "analysis.diffusion_window_ps",
            f"the fit window ends at {window[1]} ps after {config['analysis']['equilibration_ps']} ps of "
            f"equilibration, beyond the {md_ps:g} ps MD",
        )


def _frame_checks(config: Mapping, study: Study) -> None:
    for key in ("binding_energy_eV_per_atom", "rms_force_eV_per_A"):
        low, high = config["frame_checks"][key]
        if low >= high:
            _fail(f"frame_checks.{key}", f"band [{low}, {high}]: its low end is not below its high end")


def _analysis(config: Mapping, study: Study) -> None:
    analysis = config["analysis"]
    for key in ("diffusion_window_ps", "aimd_diffusion_window_ps"):
        start, end = analysis[key]
        if start >= end:
            _fail(f"analysis.{key}", f"window start {start} ps is not before its end {end} ps")
    for label in study.reference.concentrations:
        aimd_ps = _aimd_ps(config, study, label)
        if analysis["aimd_diffusion_window_ps"][1] > aimd_ps + 1e-9:
            _fail(
                "analysis.aimd_diffusion_window_ps",
                f"ends after the {aimd_ps:g} ps of AIMD of {label} kept after equilibration",
            )
    labels = set(study.reference.concentrations)
    unknown = sorted(set(analysis["viscosity_mPa_s"]) - labels)
    if unknown:
        _fail("analysis.viscosity_mPa_s", f"unknown concentration labels {unknown}")
    cutoffs = {
        "analysis.donor_acceptor_cutoff_A": analysis["donor_acceptor_cutoff_A"],
        "analysis.cation_o_cutoff_A": analysis["cation_o_cutoff_A"],
    }
    for label, system in study.reference.systems.items():
        key, half_box = system.key, min(system.cell_A) / 2
        if system.box_length_A is None and not system.source and not study.hydroxide.has_density():
            _fail(f"{key}.box_length_A", f"no density correlation of {study.hydroxide.formula}(aq) is known: give it")
        for cutoff_key, cutoff in cutoffs.items():
            if cutoff >= half_box:
                _fail(
                    cutoff_key,
                    f"{cutoff} Å is not below half the {label} box ({half_box:.2f} Å, {key}); "
                    "the minimum-image convention needs cutoff < L/2",
                )


def _aimd_ps(config: Mapping, study: Study, label: str) -> float:
    """Length of a concentration's AIMD kept after equilibration (ps)."""
    system = study.reference.concentrations[label]
    if system.source:
        return system.header.interval_ps * (system.header.frames - 1)
    aimd = config["cp2k"]["aimd"]
    return fs_to_ps((aimd["steps"] - aimd["equilibration_steps"]) * aimd["timestep_fs"])


def _repair(config: Mapping, study: Study) -> None:
    """Each repair: a known base and target, budgets its pool can give, a committee where its selection needs
    one, frames to replay where the base's are not the study's, and CP2K and the base's MD for a round from it."""
    models, seen = study.models, set()
    for i, entry in enumerate(config["repair"]):
        key, base, target = f"repair[{i}]", entry["base"], entry["target"]
        if config["training"] is None:
            _fail(key, "a repair fine-tune takes the study's training settings (precision, protocol): give training")
        if fine_tune_protocols()[config["training"]["protocol"]]["multihead"]:
            _fail(
                key, "repairs are naive fine-tunes with their own replay: not with training.protocol multihead_replay"
            )
        if base not in models.models:
            _fail(f"{key}.base", f"unknown model {base!r}; models are {models.models}")
        if target not in study.reference.concentrations:
            _fail(
                f"{key}.target",
                f"unknown concentration label {target!r}; labels are {list(study.reference.concentrations)}",
            )
        if target in models.training_map().get(base, []):
            _fail(
                f"{key}.target",
                f"{target} is where {base} was trained: a repair is for a concentration it transfers to",
            )
        if (base, target) in seen:
            _fail(key, f"a second repair of {base} at {target}: give both budgets and selections in one entry")
        seen.add((base, target))
        named = {r.name for r in study.repair.repairs.values() if r.entry == i}
        if len(named) != len(entry["frames"]) * len(entry["selection"]) + (2 if entry["md_round"] else 0):
            _fail(
                key,
                f"its repaired models' names ({names.repaired(base, target, '<selection>', 0)}…) are another entry's",
            )
        pool = study.reference.split_sizes(target)["train"]
        if max(entry["frames"]) > pool:
            _fail(f"{key}.frames", f"{max(entry['frames'])} frames asked of the {pool} of {target}'s training block")
        if entry["md_round"]:
            _md_round(config, study, key, base, target, entry["md_round"])
        has_committee = len(models.members_of(base)) > 1 if base in models.trained_models else False
        wants_committee = "committee" in entry["selection"] or entry["md_round"]
        if wants_committee and not has_committee:
            _fail(
                f"{key}.selection" if "committee" in entry["selection"] else f"{key}.md_round",
                f"committee disagreement needs {base} trained with two or more seeds (training.seeds"
                + (
                    ", and in training.committee_models)"
                    if base in models.trained_models
                    else "; it is not trained here)"
                ),
            )
        trained_here = study.repair.replays_own_training(base)
        if entry["replay"] and not trained_here and not entry["replay_file"]:
            _fail(
                f"{key}.replay_file",
                f"{base} was not trained here: name the frames of its training to replay, or set replay: 0",
            )
        if entry["replay_file"] and trained_here:
            _fail(f"{key}.replay_file", f"{base} was trained here and replays its own training block")


def _md_round(config: Mapping, study: Study, key: str, base: str, target: str, md_round: Mapping) -> None:
    if not config["cp2k"]:
        _fail(
            f"{key}.md_round",
            "labels the base's MD frames with the reference method, and cp2k is null (no method configured)",
        )
    if base not in config["md"]["models"] or target not in config["md"]["concentrations"]:
        _fail(f"{key}.md_round", f"draws from {base}'s own MD at {target}: add them to md.models and md.concentrations")
    available = study.md.frames_after_equilibration()
    pool = md_round.get("pool_frames", available)
    if pool > available:
        _fail(f"{key}.md_round.pool_frames", f"{pool} of the {available} MD frames after equilibration")
    if md_round["frames"] > pool:
        _fail(f"{key}.md_round.frames", f"{md_round['frames']} frames asked of a pool of {pool} MD frames")
