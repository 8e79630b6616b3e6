# Frames from computed AIMD, time-block splits per system, equal-budget multi-concentration mixes, the first frames
# of a training split for learning curves (training.frame_budgets), and committee members' resamples.


localrules:
    mix_multi_concentration,
    frame_budget,
    resample_committee_frames,


# The frames of a computed AIMD, each checked against frame_checks (closest pair, binding energy with the
# E0s, forces).
rule extract_frames:
    input:
        unpack(aimd_trajectory),
        box=LAYOUT.relaxed_box("{system}"),
        e0s=LAYOUT.e0s,
    output:
        LAYOUT.frames("{system}"),
    log:
        log("extract_frames", "system"),
    benchmark:
        bench("extract_frames", "system")
    wildcard_constraints:
        system=one_of(STUDY.reference.computed_systems),
    conda:
        "../../envs/analysis.yaml"
    resources:
        **slurm_resources("analysis"),
    params:
        skip_steps=lambda w: STUDY.reference.systems[w.system].equilibration_steps,
        # what the job accepts, never what it writes: a record, left out of Snakemake's params comparison
        frame_limits=STUDY.reference.frame_limits,
    script:
        "../scripts/extract_frames.py"


rule split_frames:
    input:
        rules.extract_frames.output[0],
    output:
        **{s: LAYOUT.split("{system}", s) for s in STUDY.reference.splits},
    log:
        log("split_frames", "system"),
    benchmark:
        bench("split_frames", "system")
    conda:
        "../../envs/analysis.yaml"
    resources:
        **slurm_resources("analysis"),
    params:
        split=STUDY.reference.split_settings(),
    script:
        "../scripts/split_frames.py"


rule mix_multi_concentration:
    input:
        unpack(multi_model_sources),
    output:
        **{
            s: LAYOUT.multi_concentration_split("{model}", s)
            for s in ("train", "valid")
        },
    log:
        log("mix_multi_concentration", "model"),
    benchmark:
        bench("mix_multi_concentration", "model")
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/mix_multi_concentration.py"


rule frame_budget:
    input:
        LAYOUT.split("{system}", "train"),
    output:
        LAYOUT.frame_budget("{system}", "{frames}"),
    log:
        log("frame_budget", "system", "frames"),
    benchmark:
        bench("frame_budget", "system", "frames")
    wildcard_constraints:
        frames="[0-9]+",
    conda:
        "../../envs/analysis.yaml"
    params:
        frames=lambda wildcards: int(wildcards.frames),
    script:
        "../scripts/frame_budget.py"


# training.committee_training_frames: bootstrap — each committee member's own resample of its model's frames
rule resample_committee_frames:
    input:
        committee_source,
    output:
        LAYOUT.committee_resample("{model}"),
    log:
        log("resample_committee_frames", "model"),
    benchmark:
        bench("resample_committee_frames", "model")
    conda:
        "../../envs/analysis.yaml"
    params:
        seed=lambda wildcards: STUDY.models.variant(wildcards.model).seed,
    script:
        "../scripts/resample_committee_frames.py"
