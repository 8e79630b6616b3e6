# Path helpers, input functions and config lookups: every rule file uses these and nothing else
# knows how results/ is laid out.
from mlip_transfer.box import (
    Composition,
    composition_for_molarity,
    composition_molarity,
)
from mlip_transfer.cluster import job_resources

RUN = f"results/{config['run_name']}"
ELEMENTS = ["H", "O", "K"]
CONCENTRATIONS = {c["label"]: c for c in config["concentrations"]}
PRETRAIN = config["foundation_model"].get("pretrain")
SYSTEMS = {
    **CONCENTRATIONS,
    **({PRETRAIN["system"]["label"]: PRETRAIN["system"]} if PRETRAIN else {}),
}
MULTI_MODELS = {m["name"]: m for m in config["training"]["multi_concentration_models"]}
FINE_TUNED = {f"ft_{label}": label for label in CONCENTRATIONS}
MODELS = ["foundation", *FINE_TUNED, *MULTI_MODELS]
MD_RUNS = [
    (m, c) for m in config["md"]["models"] for c in config["md"]["concentrations"]
]
ANALYSIS_FIGURES = [
    "hbonds_per_OH",
    "OH_OH_hbonds",
    "proton_transfer",
    "diffusion",
    "conductivity",
    "rdf",
]
# Loaded by rules that run CP2K under --software-deployment-method env-modules (clusters with a CP2K module).
CP2K_ENVMODULES = config.get("cluster", {}).get("envmodules", {}).get("cp2k", [])
METRICS = [
    "force_rmse_meV_per_A",
    "force_mae_meV_per_A",
    "energy_rmse_meV_per_atom",
    "energy_mae_meV_per_atom",
]


wildcard_constraints:
    system="[A-Za-z][A-Za-z0-9_]*",
    model="[A-Za-z][A-Za-z0-9_]*",
    source="[A-Za-z][A-Za-z0-9_]*",
    element="[A-Z][a-z]?",
    split="train|valid|test",
    segment=r"\d+",


def slurm_resources(kind):
    """Account, partition, runtime, memory, MPI tasks or GPUs of a kind of job (config: cluster)."""
    return job_resources(config, kind)


def composition(system):
    """KOH/water numbers of a system, from its explicit composition or its molarity."""
    s = SYSTEMS[system]
    if "n_koh" in s:
        return Composition(s["n_koh"], s["n_water"])
    return composition_for_molarity(s["molarity_mol_per_L"], s["n_oxygen"])


def molarity(system):
    """Nominal molarity (mol/L): the configured one, else from the density correlation."""
    s = SYSTEMS[system]
    return s.get("molarity_mol_per_L", composition_molarity(composition(system)))


def system_temperature_K(system):
    return SYSTEMS[system].get("temperature_K", config["temperature_K"])


def _job_name(wildcards):
    return "_".join(f"{{{w}}}" for w in wildcards) or "run"


def log(rule, *wildcards):
    return f"{RUN}/logs/{rule}/{_job_name(wildcards)}.log"


def bench(rule, *wildcards):
    return f"{RUN}/benchmarks/{rule}/{_job_name(wildcards)}.tsv"


AIMD = config["cp2k"]["aimd"]
# A production AIMD does not fit one job's walltime: it runs as equal segments of at most
# `segment_steps` MD steps, each continuing from the restart file of the one before.
AIMD_SEGMENTS = -(-AIMD["steps"] // AIMD.get("segment_steps", AIMD["steps"]))


def aimd_segment_file(system, segment, name):
    """`positions`, `forces`, `energies` or `restart` file of one AIMD segment."""
    files = {
        "positions": "aimd-pos-1.xyz",
        "forces": "aimd-frc-1.xyz",
        "energies": "aimd-1.ener",
        "restart": "aimd-1.restart",
    }
    return f"{RUN}/cp2k/aimd/{system}/segment_{segment}/{files[name]}"


def aimd_segment_end_step(wildcards):
    """The MD step a segment runs up to."""
    return (int(wildcards.segment) + 1) * AIMD["steps"] // AIMD_SEGMENTS


def previous_aimd_segment(wildcards):
    """The restart file a segment continues from (none for the first)."""
    segment = int(wildcards.segment)
    if segment == 0:
        return {}
    return {"start": aimd_segment_file(wildcards.system, segment - 1, "restart")}


def aimd_trajectory(wildcards):
    """Every segment's positions, forces and energies, in order: the whole AIMD of a system."""
    return {
        name: [
            aimd_segment_file(wildcards.system, k, name) for k in range(AIMD_SEGMENTS)
        ]
        for name in ("positions", "forces", "energies")
    }


def split_file(system, split):
    return f"{RUN}/splits/{system}/{split}.extxyz"


def model_file(model):
    return f"{RUN}/models/{model}.model"


def training_sets(wildcards):
    """Train and validation files of a model: one concentration's splits or a multi-concentration mix."""
    if wildcards.model in FINE_TUNED:
        label = FINE_TUNED[wildcards.model]
        return {
            "train": split_file(label, "train"),
            "valid": split_file(label, "valid"),
        }
    if wildcards.model in MULTI_MODELS:
        return {
            s: f"{RUN}/splits/multi/{wildcards.model}/{s}.extxyz"
            for s in ("train", "valid")
        }
    raise ValueError(f"unknown model {wildcards.model!r}; models are {MODELS}")


def multi_model_sources(wildcards):
    labels = MULTI_MODELS[wildcards.model]["concentrations"]
    return {
        "train": [split_file(c, "train") for c in labels],
        "valid": [split_file(c, "valid") for c in labels],
        "budget_train": split_file(labels[0], "train"),
    }


def test_sets(wildcards=None):
    return {c: split_file(c, "test") for c in CONCENTRATIONS}


def analysis_tables(source, system):
    return {
        t: f"{RUN}/analysis/{source}/{system}/{t}.csv"
        for t in ("frames", "hbonds", "hbond_correlation", "rdf", "diffusion", "msd")
    }


def analysis_input(wildcards):
    """The trajectory of an analysed run: AIMD frames or an MD trajectory."""
    if wildcards.source == "AIMD":
        return f"{RUN}/frames/{wildcards.system}.extxyz"
    return f"{RUN}/md/{wildcards.source}/{wildcards.system}.h5"


def trajectory_timing(wildcards):
    """Frame interval, frames to skip and MSD fit window (ps) of an analysed run. AIMD frames had
    their equilibration dropped when they were extracted, and AIMD runs are shorter than MD.
    """
    settings = config["analysis"]
    if wildcards.source == "AIMD":
        aimd = config["cp2k"]["aimd"]
        interval_ps = aimd["timestep_fs"] * aimd["print_every"] / 1000.0
        return {
            "frame_interval_ps": interval_ps,
            "skip_frames": 0,
            "diffusion_window_ps": settings["aimd_diffusion_window_ps"],
        }
    interval_ps = config["md"]["timestep_fs"] * config["md"]["write_interval"] / 1000.0
    return {
        "frame_interval_ps": interval_ps,
        "skip_frames": round(settings["equilibration_ps"] / interval_ps),
        "diffusion_window_ps": settings["diffusion_window_ps"],
    }


def analysed_runs():
    """(source, concentration) pairs analysed: every selected MD run and the AIMD reference."""
    return [*MD_RUNS, *(("AIMD", c) for c in CONCENTRATIONS)]


def in_report(path, caption, category, **labels):
    """A figure shown in `snakemake --report`, with its caption from workflow/report/<caption>.rst."""
    return report(
        path,
        caption=f"../report/{caption}.rst",
        category=category,
        labels=labels or None,
    )


def matrix_outputs():
    return [f"{RUN}/matrix/transferability.csv"] + [
        f"{RUN}/matrix/{metric}.{ext}" for metric in METRICS for ext in ("png", "pdf")
    ]


def figures(folder, names, category, caption=None):
    """PNG and PDF of each named figure; the PNGs go into `snakemake --report` with the caption
    workflow/report/<caption or name>.rst."""
    return [
        path
        for name in names
        for path in (
            in_report(f"{folder}/{name}.png", caption or name, category, figure=name),
            f"{folder}/{name}.pdf",
        )
    ]


def final_outputs():
    return [
        *matrix_outputs(),
        *expand(f"{RUN}/figures/parity_{{model}}.png", model=MODELS),
        f"{RUN}/tables/hbonds.csv",
        f"{RUN}/tables/diffusion.csv",
        *expand(
            f"{RUN}/figures/{{fig}}.{{ext}}",
            fig=["hbonds_per_OH", "OH_OH_hbonds", "diffusion", "rdf"],
            ext=["png", "pdf"],
        ),
    ]


def concentration_outputs(label):
    """One concentration's chain alone: AIMD, frames, splits, its fine-tuned model evaluated on its
    own test set, MD of that model at that concentration (if selected) and the analyses.
    """
    own_run = (f"ft_{label}", label)
    own_md = [own_run] if own_run in MD_RUNS else []
    return [
        f"{RUN}/evaluation/ft_{label}/{label}.csv",
        *[analysis_tables(m, c)["diffusion"] for m, c in [*own_md, ("AIMD", label)]],
    ]
