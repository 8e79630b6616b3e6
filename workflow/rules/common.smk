# Path helpers, input functions and config lookups: every rule file uses these and nothing else
# knows how results/ is laid out. The study itself (systems, models, MD runs, and the settings each
# job depends on) comes from mlip_transfer.study, which the config checks read too.
#
# A rule's params hold only what its job's result depends on (STUDY.*_settings, key order canonical):
# Snakemake reruns a job whose params changed. How a job runs (threads, cp2k.command, device,
# enable_cueq, SLURM resources) is read by the scripts from the config and never reruns anything.
import re
from argparse import Namespace
from pathlib import Path

from mlip_transfer.models import evaluation
from mlip_transfer.cluster import job_resources
from mlip_transfer.reference import cp2k_output
from mlip_transfer import names
from mlip_transfer.study import Study, canonical

STUDY = Study(config)
RUN = f"results/{config['run_name']}"
ELEMENTS = STUDY.hydroxide.elements  # H, O and the cation (config: cation)
CONCENTRATIONS = list(STUDY.concentrations)  # also the names of their test sets
# "<label>.block": the training AIMD's own test block, beside an independent test AIMD (the comparison)
IN_TRAJECTORY_TEST_SETS = STUDY.in_trajectory_test_sets
PRETRAIN = config["foundation_model"].get("pretrain")
FINE_TUNED = STUDY.fine_tuned
MODELS = STUDY.models
# Fine-tunes beside the study's models: the other seeds' ("<model>.seed<n>", the committee) and the
# learning curves' subsets of training frames ("ft_<label>.frames<n>").
COMMITTEE = STUDY.committee_members
FRAME_BUDGET_MODELS = STUDY.frame_budget_models
SEEDED_FINE_TUNES = [*MODELS[1:], *COMMITTEE]  # every model's fine-tune for every seed
ALL_FINE_TUNES = [*SEEDED_FINE_TUNES, *FRAME_BUDGET_MODELS]
EVALUATED_MODELS = [
    MODELS[0],
    *ALL_FINE_TUNES,
]  # every one on every concentration's test set
# the fine-tunes on all training frames at the end of each learning curve
LEARNING_CURVE_ENDS = [names.fine_tune(c) for c in STUDY.frame_budget_concentrations]
MD_RUNS = STUDY.md_runs  # (model, "<label>.r<k>"): every replica of every MD run
# the same for every MD model
MD_SYSTEMS = list(dict.fromkeys(system for _, system in MD_RUNS))
# re-labelled with the reference method (md_reference)
MD_REFERENCE_RUNS = STUDY.md_reference_runs
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


# (member, test set) of every committee member's predictions (committee disagreement)
COMMITTEE_RUNS = [(m, t) for m in SEEDED_FINE_TUNES for t in CONCENTRATIONS]


def slurm_resources(kind):
    """Account, partition, runtime, memory, MPI tasks or GPUs of a kind of job (config: cluster)."""
    return job_resources(config, kind)


def _job_name(wildcards):
    return "_".join(f"{{{w}}}" for w in wildcards) or "run"


def log(rule, *wildcards):
    return f"{RUN}/logs/{rule}/{_job_name(wildcards)}.log"


def bench(rule, *wildcards):
    return f"{RUN}/benchmarks/{rule}/{_job_name(wildcards)}.tsv"


def aimd_segment_file(system, segment, name):
    """`positions`, `forces`, `energies` or `restart` file of one AIMD segment (CP2K's names)."""
    return f"{RUN}/cp2k/aimd/{system}/segment_{segment}/{cp2k_output.md_file_name(cp2k_output.AIMD_PROJECT, name)}"


def output_dir(wildcards, output):
    """The folder of a job's first output, where CP2K runs and leaves its own files."""
    return str(Path(output[0]).parent)


def cp2k_run_dir(wildcards, output):
    """Where CP2K works beside a job's outputs: not an output, so Snakemake never deletes it, and an
    interrupted AIMD segment continues there from its restart file."""
    return str(Path(output[0]).parent / "run")


def previous_aimd_segment(wildcards):
    """The restart file a segment continues from (none for the first)."""
    segment = int(wildcards.segment)
    if segment == 0:
        return {}
    return {"start": aimd_segment_file(wildcards.system, segment - 1, "restart")}


def aimd_segments(system):
    """Every segment's benchmark file of a system's AIMD, in order."""
    return [
        bench("run_aimd", "system", "segment").format(system=system, segment=k)
        for k in range(STUDY.aimd_segments(system))
    ]


def aimd_trajectory(wildcards):
    """Every segment's positions, forces and energies, in order: the whole AIMD of a system."""
    return {
        name: [
            aimd_segment_file(wildcards.system, k, name)
            for k in range(STUDY.aimd_segments(wildcards.system))
        ]
        for name in ("positions", "forces", "energies")
    }


def frames_file(system):
    return f"{RUN}/frames/{system}.extxyz"


def split_file(system, split):
    return f"{RUN}/splits/{system}/{split}.extxyz"


def test_set_file(wildcards):
    """The frames of a test set: a concentration's independent test AIMD, or a training AIMD's test block."""
    system, kind = STUDY.test_set_source(wildcards.test_set)
    return frames_file(system) if kind == "trajectory" else split_file(system, "test")


def evaluations(runs, kind):
    """The evaluation files of (model, test set) runs, in their order."""
    return [evaluation_file(model, test_set, kind) for model, test_set in runs]


def evaluation_file(model, test_set, kind):
    """`errors` (CSV, one row), `frames` (CSV, per-frame errors) or `predictions` (NPZ) of a model on a test set."""
    suffix = {"errors": ".csv", "frames": ".frames.csv", "predictions": ".npz"}[kind]
    return f"{RUN}/evaluation/{model}/{test_set}{suffix}"


def frame_budget_file(system, frames):
    """The first ``frames`` frames of one seeded order of a training split (learning curves)."""
    return f"{RUN}/splits/budgets/{system}/{frames}/train.extxyz"


def model_file(model):
    return f"{RUN}/models/{model}.model"


def training_dir(wildcards, output):
    """mace_run_train's own folder of a model (checkpoints, logs): kept between attempts for resuming."""
    return str(Path(output[0]).with_name(f"{Path(output[0]).stem}_mace_run_train"))


def committee_train_file(member):
    """A committee member's own bootstrap resample of its model's training frames."""
    return f"{RUN}/splits/committee/{member}/train.extxyz"


def training_sets(wildcards):
    """Train and validation files of a model (or a seed or frame budget of it): one concentration's splits,
    the first frames of its training split, a multi-concentration mix, or (training.committee_training_frames:
    bootstrap) a committee member's resample of its model's training frames."""
    model, seed, frames = STUDY.variant(wildcards.model)
    resampled = (
        seed != STUDY.seeds[0]
        and config["training"]["committee_training_frames"] == "bootstrap"
    )
    if model in FINE_TUNED:
        label = FINE_TUNED[model]
        train = (
            frame_budget_file(label, frames) if frames else split_file(label, "train")
        )
        valid = split_file(label, "valid")
    else:
        train, valid = (
            f"{RUN}/splits/multi/{model}/{s}.extxyz" for s in ("train", "valid")
        )
    return {
        "train": committee_train_file(wildcards.model) if resampled else train,
        "valid": valid,
    }


def committee_source(wildcards):
    """The training frames a committee member resamples: those of its model's first seed."""
    return training_sets(Namespace(model=names.without_seed(wildcards.model)))["train"]


def replay_data():
    """training.protocol multihead_replay: the foundation model's training data, replayed on a second head."""
    replay = config["training"]["replay_file"]
    return (
        {"replay": replay}
        if STUDY.fine_tune_hyperparameters()["multiheads_finetuning"]
        else {}
    )


def multi_model_sources(wildcards):
    labels = STUDY.training_concentrations(wildcards.model)
    return {
        "train": [split_file(c, "train") for c in labels],
        "valid": [split_file(c, "valid") for c in labels],
        "budget_train": split_file(labels[0], "train"),
    }


# The benchmark files behind the study's cost: the relaxation and AIMD segments of every concentration's
# training and test AIMD, and every fine-tune (all seeds and frame budgets).
CP2K_BENCHMARKS = {
    system: {
        "relax": bench("relax_box", "system").format(system=system),
        "aimd": aimd_segments(system),
    }
    for system in STUDY.cost_systems()
}
TRAINING_BENCHMARKS = {
    m: bench("fine_tune", "model").format(model=m) for m in ALL_FINE_TUNES
}


def analysis_tables(source, system):
    return {
        t: f"{RUN}/analysis/{source}/{system}/{t}.csv"
        for t in ("frames", "hbonds", "hbond_correlation", "rdf", "diffusion", "msd")
    }


def md_start(wildcards):
    """The AIMD frames an MD replica starts from (its concentration's)."""
    return frames_file(names.replica_of(wildcards.system)[0])


def md_file(model, system):
    return f"{RUN}/md/{model}/{system}.h5"


def stability_file(model, system):
    return f"{RUN}/analysis/{model}/{system}/stability.csv"


def md_reference_file(model, system, name):
    """`frames` picked from an MD run, a labelled `chunk_<k>` of them, or the whole labelled `reference`."""
    return f"{RUN}/md_reference/{model}/{system}/{name}.extxyz"


def analysis_input(wildcards):
    """The trajectory of an analysed run: AIMD frames or an MD trajectory."""
    if wildcards.source == names.AIMD_SOURCE:
        return frames_file(wildcards.system)
    return md_file(wildcards.source, wildcards.system)


def analysed_tables(table):
    """One analysis table of every analysed run, in the order of STUDY.analysed_runs()."""
    return [analysis_tables(s, c)[table] for s, c in STUDY.analysed_runs()]


def in_report(path, caption, category, **labels):
    """A figure shown in `snakemake --report`, with its caption from workflow/report/<caption>.rst."""
    return report(
        path,
        caption=f"../report/{caption}.rst",
        category=category,
        labels=labels or None,
    )


def figures(folder, names, category, caption=None):
    """{name: [PNG, PDF]} of each named figure, for named outputs; the PNGs go into
    `snakemake --report` with the caption workflow/report/<caption or name>.rst."""
    return {
        name: [
            in_report(f"{folder}/{name}.png", caption or name, category, figure=name),
            f"{folder}/{name}.pdf",
        ]
        for name in names
    }


def final_outputs():
    """Everything a finished study shows: the outputs of its summary rules (called once all rules exist)."""
    optional = [
        (rules.committee_disagreement, len(STUDY.seeds) > 1),
        (rules.learning_curves, bool(FRAME_BUDGET_MODELS)),
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
        evaluation_file(names.fine_tune(label), label, "errors"),
        *[
            analysis_tables(m, c)["diffusion"]
            for m, c in [*own_md, (names.AIMD_SOURCE, label)]
        ],
    ]
