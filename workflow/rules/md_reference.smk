# The reference method on the models' own MD (md_reference): frames of every MD run's first replica after
# equilibration, re-labelled by CP2K single points with the AIMD's method, in resumable chunks; every model's
# error on them; and each run's model on its own frames beside its error on the AIMD test set.


localrules:
    select_md_frames,
    join_md_reference,
    own_md_errors,


rule select_md_frames:
    input:
        LAYOUT.md("{model}", "{system}"),
    output:
        LAYOUT.md_reference("{model}", "{system}", "frames"),
    log:
        log("select_md_frames", "model", "system"),
    benchmark:
        bench("select_md_frames", "model", "system")
    conda:
        "../../envs/analysis.yaml"
    params:
        frames=config["md_reference"]["frames"],
        skip_frames=STUDY.md.equilibration_frames(),
    script:
        "../scripts/select_md_frames.py"


rule label_md_frames:
    input:
        frames=rules.select_md_frames.output[0],
        schema=rules.cp2k_input_schema.output[0],
    output:
        LAYOUT.md_reference("{model}", "{system}", "chunk_{chunk}"),
    log:
        log("label_md_frames", "model", "system", "chunk"),
    benchmark:
        bench("label_md_frames", "model", "system", "chunk")
    wildcard_constraints:
        chunk=r"\d+",
    conda:
        "../../envs/cp2k.yaml"
    envmodules:
        *CP2K_ENVMODULES,
    threads: config["cp2k"]["threads"]
    resources:
        **slurm_resources("cp2k"),
    params:
        electronic_structure=STUDY.reference.electronic_structure(),
        frames=lambda w: STUDY.md.reference_chunk(int(w.chunk)),
        run_dir=cp2k_run_dir,
        launch=LAUNCH.cp2k,
    script:
        "../scripts/label_md_frames.py"


rule join_md_reference:
    input:
        lambda w: [
            LAYOUT.md_reference(w.model, w.system, f"chunk_{k}")
            for k in range(STUDY.md.reference_chunks)
        ],
    output:
        LAYOUT.md_reference("{model}", "{system}", "reference"),
    log:
        log("join_md_reference", "model", "system"),
    benchmark:
        bench("join_md_reference", "model", "system")
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/join_frames.py"


# every model on every run's re-labelled frames, one job per model
rule evaluate_on_md_references:
    input:
        **named(
            "reference",
            {
                names.md_reference_set(m, s): LAYOUT.md_reference(m, s, "reference")
                for m, s in MD_REFERENCE_RUNS
            },
        ),
        model=LAYOUT.model("{model}"),
        e0s=LAYOUT.e0s,
    output:
        frames=LAYOUT.md_reference_errors("{model}"),
    log:
        log("evaluate_on_md_references", "model"),
    benchmark:
        bench("evaluate_on_md_references", "model")
    conda:
        "../../envs/mace.yaml"
    threads: 1
    resources:
        **slurm_resources("evaluation"),
    params:
        default_dtype=STUDY.models.evaluation_dtype,
        launch=LAUNCH.evaluation,
    script:
        "../scripts/evaluate_on_md_references.py"


rule own_md_errors:
    input:
        frames=expand(rules.evaluate_on_md_references.output.frames, model=MODELS),
        matrix=rules.transferability_matrix.output.table,
    output:
        **figures("matrix", ["own_md_errors"], "Models on their own MD"),
        runs=in_report(
            LAYOUT.matrix_table("own_md_errors"),
            "own_md_table",
            "Models on their own MD",
        ),
        every_model=LAYOUT.matrix_table("own_md_matrix"),
    log:
        log("own_md_errors"),
    benchmark:
        bench("own_md_errors")
    conda:
        "../../envs/analysis.yaml"
    params:
        models=MODELS,
        runs=MD_REFERENCE_RUNS,
        within_percent=(config["md_reference"]["within_percent"]),
    script:
        "../scripts/own_md_errors.py"
