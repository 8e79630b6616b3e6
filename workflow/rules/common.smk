# Shared by every file of rules: the study (mlip_transfer.study: its catalogues of runs, and the settings
# each job depends on), the run's layout (mlip_transfer.layout: every results path), how jobs run
# (mlip_transfer.launch) and the input functions that pick a job's inputs by run id.
#
# A rule's params hold only what its job's result depends on (the catalogues' settings, mlip_transfer.settings):
# Snakemake reruns a job whose params changed. How a job runs reaches its script as the `launch` param, a
# record Snakemake leaves out of that comparison (mlip_transfer.launch), and never reruns anything.
import re
from argparse import Namespace

from mlip_transfer import names
from mlip_transfer.cluster import job_resources
from mlip_transfer.launch import Launch
from mlip_transfer.layout import ANALYSIS_TABLES, Layout, named
from mlip_transfer.models import evaluation
from mlip_transfer.plan import study_plan
from mlip_transfer.reference import cp2k_output
from mlip_transfer.repair.catalogue import AIMD_POOL, MD_POOL
from mlip_transfer.study import Study

STUDY = Study(config)
LAYOUT = Layout.of_run(config["run_name"])
LAUNCH = Launch.from_config(config)
CONCENTRATIONS = list(
    STUDY.reference.concentrations
)  # also the names of their test sets
MODELS = STUDY.models.models
# every model judged on every test set: the study's (all seeds, learning-curve points) and the repaired ones
EVALUATED_MODELS = STUDY.evaluated_models
MD_RUNS = STUDY.md.runs  # (model, "<label>.r<k>"): every replica of every MD run
MD_REFERENCE_RUNS = (
    STUDY.md.reference_runs
)  # re-labelled with the reference method (md_reference)
ANALYSIS_FIGURES = [
    "hbonds_per_OH",
    "OH_OH_hbonds",
    "proton_transfer",
    "diffusion",
    "conductivity",
    "rdf",
]
# Loaded by rules that run CP2K under --software-deployment-method env-modules (clusters with a CP2K module).
CP2K_ENVMODULES = config["cluster"]["envmodules"]["cp2k"]
METRICS = list(evaluation.METRICS)  # the matrices drawn


# the grammar of every name: mlip_transfer.names
wildcard_constraints:
    system=names.SYSTEM_PATTERN,
    test_set=names.TEST_SET_PATTERN,
    model=names.MODEL_PATTERN,
    source=names.LABEL,
    element="[A-Z][a-z]?",
    split="train|valid|test",
    segment=r"\d+",


def slurm_resources(kind):
    """Account, partition, runtime, memory, MPI tasks or GPUs of a kind of job (config: cluster)."""
    return job_resources(config, kind)


def allocation_plan():
    """Per stage: jobs, SLURM jobs through the repository's profile (slurm/), core- and GPU-hours requested."""
    return study_plan(STUDY, config, f"{workflow.basedir}/slurm/config.yaml")


log, bench = LAYOUT.log, LAYOUT.benchmark


def output_dir(wildcards, output):
    return LAYOUT.output_folder(output[0])


def cp2k_run_dir(wildcards, output):
    return LAYOUT.cp2k_work_dir(output[0])


def training_dir(wildcards, output):
    return LAYOUT.training_work_dir(output[0])


def previous_aimd_segment(wildcards):
    """The restart file a segment continues from (none for the first)."""
    segment = int(wildcards.segment)
    if segment == 0:
        return {}
    return {"start": LAYOUT.aimd_segment(wildcards.system, segment - 1, "restart")}


def one_of(labels):
    """A wildcard constraint matching exactly these labels (nothing where there are none)."""
    return "|".join(map(re.escape, labels)) or "(?!)"


def imported_files(wildcards):
    """Every file an imported AIMD is read from, by kind, and for an imported test trajectory its
    concentration's training frames (shared frames are refused)."""
    training = STUDY.reference.training_system(wildcards.system)
    return {
        **STUDY.reference.import_files(wildcards.system),
        **({"training": LAYOUT.frames(training)} if training else {}),
    }


def aimd_trajectory(wildcards):
    """Every segment's positions, forces and energies, in order: the whole AIMD of a system."""
    segments = range(STUDY.reference.aimd_segments(wildcards.system))
    return {
        kind: [LAYOUT.aimd_segment(wildcards.system, k, kind) for k in segments]
        for kind in cp2k_output.TRAJECTORY_FILES
    }


def test_set_file(wildcards):
    """The frames of a test set: a concentration's independent test AIMD, or a training AIMD's test block."""
    system, kind = STUDY.reference.test_set_source(wildcards.test_set)
    return (
        LAYOUT.frames(system) if kind == "trajectory" else LAYOUT.split(system, "test")
    )


def evaluations(runs, kind):
    """The evaluation files of (model, test set) runs, named "<kind>/<model>/<test set>"."""
    return named(
        kind,
        {names.run_id(m, t): LAYOUT.evaluation(m, t, kind) for m, t in runs},
    )


def every_model_on_every_test_set(models):
    return [(m, t) for m in models for t in CONCENTRATIONS]


def training_sets(wildcards):
    """Train and validation files of a model (or a seed or frame budget of it): one concentration's splits,
    the first frames of its training split, a multi-concentration mix, or (training.committee_training_frames:
    bootstrap) a committee member's resample of its model's training frames."""
    model, seed, frames = STUDY.models.variant(wildcards.model)
    if model in STUDY.models.fine_tuned:
        label = STUDY.models.fine_tuned[model]
        train = (
            LAYOUT.frame_budget(label, frames)
            if frames
            else LAYOUT.split(label, "train")
        )
        valid = LAYOUT.split(label, "valid")
    else:
        train, valid = (
            LAYOUT.multi_concentration_split(model, s) for s in ("train", "valid")
        )
    if STUDY.models.resampled(wildcards.model):
        train = LAYOUT.committee_resample(wildcards.model)
    return {"train": train, "valid": valid}


def committee_source(wildcards):
    """The training frames a committee member resamples: those of its model's first seed."""
    return training_sets(Namespace(model=names.without_seed(wildcards.model)))["train"]


def replay_data():
    """training.protocol multihead_replay: the foundation model's training data, replayed on a second head."""
    multihead = STUDY.models.fine_tune_hyperparameters()["multiheads_finetuning"]
    return {"replay": config["training"]["replay_file"]} if multihead else {}


def multi_model_sources(wildcards):
    labels = STUDY.models.training_concentrations(wildcards.model)
    return {
        "train": [LAYOUT.split(c, "train") for c in labels],
        "valid": [LAYOUT.split(c, "valid") for c in labels],
        "budget_train": LAYOUT.split(labels[0], "train"),
    }


def cost_benchmarks():
    """The benchmark files behind the study's cost, named by run: the relaxation and AIMD segments of every
    concentration's training and test AIMD, and every fine-tune (all seeds and frame budgets).
    """
    systems = STUDY.reference.cost_systems()
    aimd = {
        names.run_id(s, str(k)): bench("run_aimd", "system", "segment").format(
            system=s, segment=k
        )
        for s in systems
        for k in range(STUDY.reference.aimd_segments(s))
    }
    return {
        **named(
            "relax",
            {s: bench("relax_box", "system").format(system=s) for s in systems},
        ),
        **named("aimd", aimd),
        **named(
            "training",
            {
                m: bench("fine_tune", "model").format(model=m)
                for m in STUDY.models.all_fine_tunes
            },
        ),
        **named(
            "training",
            {
                m: bench("repair_fine_tune", "model").format(model=m)
                for m in STUDY.repair.members
            },
        ),
    }


def analysis_tables(source, system):
    return {t: LAYOUT.analysis_table(source, system, t) for t in ANALYSIS_TABLES}


def md_start(wildcards):
    """The AIMD frames an MD replica starts from (its concentration's)."""
    return LAYOUT.frames(names.replica_of(wildcards.system)[0])


def analysis_input(wildcards):
    """The trajectory of an analysed run: AIMD frames or an MD trajectory."""
    if wildcards.source == names.AIMD_SOURCE:
        return LAYOUT.frames(wildcards.system)
    return LAYOUT.md(wildcards.source, wildcards.system)


def analysed_tables(table):
    """One analysis table of every analysed run, named "<table>/<source>/<system>"."""
    return named(
        table,
        {
            names.run_id(s, c): analysis_tables(s, c)[table]
            for s, c in STUDY.analysis.runs()
        },
    )


def in_report(path, caption, category, **labels):
    """A figure shown in `snakemake --report`, with its caption from workflow/report/<caption>.rst."""
    return report(
        path,
        caption=f"../report/{caption}.rst",
        category=category,
        labels=labels or None,
    )


def figure(section, name, category, caption=None, **labels):
    """[PNG, PDF] of a figure; the PNG goes into `snakemake --report` with the caption
    workflow/report/<caption or name>.rst."""
    shown, *others = LAYOUT.figure(section, name)
    labels = labels or {"figure": name}
    return [in_report(shown, caption or name, category, **labels), *others]


def figures(section, names, category, caption=None):
    """{name: [PNG, PDF]} of each named figure (:func:`figure`), for named outputs."""
    return {name: figure(section, name, category, caption) for name in names}


def final_outputs():
    """Everything a finished study shows: the outputs of its summary rules (called once all rules exist)."""
    optional = [
        (rules.committee_disagreement, STUDY.models.has_committees),
        (rules.learning_curves, bool(STUDY.models.frame_budget_models)),
        *([(rules.repair_curves, True)] if STUDY.repair.repairs else []),
    ]
    return [
        *rules.transferability_matrix.output,
        *rules.transfer_views.output,
        *rules.study_cost.output,
        *[f for rule, wanted in optional if wanted for f in rule.output],
        *expand(rules.parity_plot.output.figure, model=MODELS),
        *rules.summarise_analysis.output,
        *(rules.own_md_errors.output if MD_REFERENCE_RUNS else []),
    ]


def concentration_outputs(label):
    """One concentration's chain alone: AIMD, frames, splits, its fine-tuned model evaluated on its
    own test set, MD of that model at that concentration (if selected) and the analyses.
    """
    own_md = [
        (m, s)
        for m, s in MD_RUNS
        if m == names.fine_tune(label) and names.replica_of(s)[0] == label
    ]
    return [
        LAYOUT.evaluation(names.fine_tune(label), label, "errors"),
        *[
            analysis_tables(m, c)["diffusion"]
            for m, c in [*own_md, (names.AIMD_SOURCE, label)]
        ],
    ]


# --- repairs (workflow/rules/repair.smk) ---------------------------------------------------------------


def repair_pool_frames(base, target, source):
    """The frames a repair chooses from: the target's training block, or the base's own MD there."""
    if source == MD_POOL:
        return LAYOUT.repair_md_pool(base, target)
    return LAYOUT.split(target, "train")


def repair_committee(wildcards):
    """The pool's frames and the base's committee (every seed's fine-tune), named by member."""
    members = STUDY.models.members_of(wildcards.base)
    return {
        "pool": repair_pool_frames(wildcards.base, wildcards.target, wildcards.source),
        **named("member", {m: LAYOUT.model(m) for m in members}),
    }


def repair_selection_inputs(wildcards):
    """A repair's pool, its committee disagreement where the base has a committee, and the target's test
    frames (a picked frame that is one is refused)."""
    repair = STUDY.repair.of(wildcards.model)
    tests = [
        test_set_file(Namespace(test_set=t))
        for t in STUDY.reference.test_sets_of(repair.target)
    ]
    pool = {"pool": repair_pool_frames(*repair.pool), "tests": tests}
    if repair.by_committee:
        pool["disagreement"] = LAYOUT.repair_pool(*repair.pool)
    return pool


def base_training_frames(repair):
    """The frames a repair replays: its base's own training block (a fine-tune, a multi-concentration model,
    a foundation model pretrained here), else the file its entry names (an external base).
    """
    block = STUDY.repair.own_training_block(repair.base)
    if block is None:
        return repair.replay_file
    kind, name = block
    if kind == "multi":
        return LAYOUT.multi_concentration_split(name, "train")
    return LAYOUT.split(name, "train")


def repair_training_inputs(wildcards):
    """A repair's new frames (labelled with the reference method) and, with replay, its base's frames."""
    repair = STUDY.repair.of(wildcards.model)
    new = "labelled" if repair.source == MD_POOL else "selected"
    replay = {"replay": base_training_frames(repair)} if repair.replay_frames else {}
    return {"new": LAYOUT.repair_frames(repair.name, new), **replay}


def repair_fine_tune_inputs(wildcards):
    """A repair fine-tune (any seed) starts from its base's weights on its repair's training frames."""
    repair = STUDY.repair.of(wildcards.model)
    frames = LAYOUT.repair_frames(repair.name, "train")
    return {"train": frames, "valid": frames, "foundation": LAYOUT.model(repair.base)}


def repair_curve_inputs(wildcards):
    """What the curves are made of, named by run id: every base (first seed) and repaired model (all seeds)
    on every test set, each repair's chosen frames, each pool's committee disagreement and each round's
    single points' benchmark."""
    judged = [*STUDY.repair.bases, *STUDY.repair.members]
    return {
        **evaluations(every_model_on_every_test_set(judged), "frames"),
        **named(
            "selected",
            {m: LAYOUT.repair_selection(m) for m in STUDY.repair.models_repaired},
        ),
        **named(
            "pool",
            {
                names.run_id(*p): LAYOUT.repair_pool(*p)
                for p in STUDY.repair.committee_pools
            },
        ),
        **named(
            "labelling",
            {
                m: bench("label_repair_frames", "model").format(model=m)
                for m, r in STUDY.repair.repairs.items()
                if r.source == MD_POOL
            },
        ),
    }
