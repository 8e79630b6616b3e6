# Repair curves (config `repair`): a base model's fine-tune continued from its weights on n frames of a target
# concentration, chosen evenly, at random or by the base's committee disagreement (and, in one active-learning
# round, from the base's own MD there, labelled with the reference method), with a replay of its own training
# frames; each judged on every test set like any model (evaluate_model), and the curves of error against n.


localrules:
    repair_md_pool,
    select_repair_frames,
    repair_training_frames,
    repair_curves,


wildcard_constraints:
    base=names.LABEL,
    target=names.LABEL,


# The base's own MD at the target after equilibration: the active-learning round's pool (first replica).
rule repair_md_pool:
    input:
        LAYOUT.md("{base}", names.md_replica("{target}", 0)),
    output:
        LAYOUT.repair_md_pool("{base}", "{target}"),
    log:
        log("repair_md_pool", "base", "target"),
    benchmark:
        bench("repair_md_pool", "base", "target")
    conda:
        "../../envs/analysis.yaml"
    params:
        skip_frames=STUDY.md.equilibration_frames(),
        frames=lambda w: STUDY.repair.md_pool_frames(w.base, w.target),
    script:
        "../scripts/repair_md_pool.py"


# DP-GEN's max_devi_f of every pool frame among the base's seeds (meV/Å).
rule pool_disagreement:
    input:
        unpack(repair_committee),
    output:
        LAYOUT.repair_pool("{base}", "{target}", "{source}"),
    log:
        log("pool_disagreement", "base", "target", "source"),
    benchmark:
        bench("pool_disagreement", "base", "target", "source")
    wildcard_constraints:
        source=f"{AIMD_POOL}|{MD_POOL}",
    conda:
        "../../envs/mace.yaml"
    threads: 1
    resources:
        **slurm_resources("evaluation"),
    params:
        default_dtype=STUDY.models.evaluation_dtype,
        launch=LAUNCH.evaluation,
    script:
        "../scripts/pool_disagreement.py"


rule select_repair_frames:
    input:
        unpack(repair_selection_inputs),
    output:
        frames=LAYOUT.repair_frames("{model}", "selected"),
        table=LAYOUT.repair_selection("{model}"),
    log:
        log("select_repair_frames", "model"),
    benchmark:
        bench("select_repair_frames", "model")
    wildcard_constraints:
        model=one_of(STUDY.repair.models_repaired),
    conda:
        "../../envs/analysis.yaml"
    params:
        selection=lambda w: STUDY.repair.selection(w.model),
    script:
        "../scripts/select_repair_frames.py"


if STUDY.repair.md_pools:

    # The chosen MD frames with the reference method: the single-point path of md_reference.
    rule label_repair_frames:
        input:
            frames=LAYOUT.repair_frames("{model}", "selected"),
            schema=rules.cp2k_input_schema.output[0],
        output:
            LAYOUT.repair_frames("{model}", "labelled"),
        log:
            log("label_repair_frames", "model"),
        benchmark:
            bench("label_repair_frames", "model")
        wildcard_constraints:
            model=one_of(STUDY.repair.models_repaired),
        conda:
            "../../envs/cp2k.yaml"
        envmodules:
            *CP2K_ENVMODULES,
        threads: config["cp2k"]["threads"]
        resources:
            **slurm_resources("cp2k"),
        params:
            electronic_structure=STUDY.reference.electronic_structure(),
            frames=lambda w: list(range(STUDY.repair.of(w.model).frames)),
            run_dir=cp2k_run_dir,
            launch=LAUNCH.cp2k,
        script:
            "../scripts/label_md_frames.py"


rule repair_training_frames:
    input:
        unpack(repair_training_inputs),
    output:
        LAYOUT.repair_frames("{model}", "train"),
    log:
        log("repair_training_frames", "model"),
    benchmark:
        bench("repair_training_frames", "model")
    wildcard_constraints:
        model=one_of(STUDY.repair.models_repaired),
    conda:
        "../../envs/analysis.yaml"
    params:
        replay_frames=lambda w: STUDY.repair.replayed(w.model),
    script:
        "../scripts/repair_training_frames.py"


# Continued from the base's weights (its weights as the fine-tune's starting point); validated on its own
# training frames, so that it needs no frame beyond its budget.
rule repair_fine_tune:
    input:
        unpack(repair_fine_tune_inputs),
        e0s=LAYOUT.e0s,
    output:
        LAYOUT.model("{model}"),
    log:
        log("repair_fine_tune", "model"),
    benchmark:
        bench("repair_fine_tune", "model")
    wildcard_constraints:
        model=one_of(STUDY.repair.members),
    conda:
        "../../envs/mace.yaml"
    threads: config["training"]["threads"]
    resources:
        **slurm_resources("training"),
    params:
        training=lambda w: STUDY.repair.fine_tune_settings(w.model),
        work_dir=training_dir,
        launch=LAUNCH.training,
    script:
        "../scripts/train_mace.py"


rule repair_curves:
    input:
        unpack(repair_curve_inputs),
        matrix=rules.transferability_matrix.output.table,
        aimd_cost=rules.study_cost.output.aimd,
    output:
        **figures("repair", ["curves"], "Repair", caption="repair_curves"),
        table=LAYOUT.repair_table("curves"),
        selected_frames=LAYOUT.repair_table("selected_frames"),
        summary=in_report(LAYOUT.repair_table("summary"), "repair_summary", "Repair"),
    log:
        log("repair_curves"),
    benchmark:
        bench("repair_curves")
    conda:
        "../../envs/analysis.yaml"
    params:
        repairs=STUDY.repair.records(),
        own_models=STUDY.repair.own_models(),
        homes=STUDY.models.training_map(),
        tests=CONCENTRATIONS,
        launch=LAUNCH.cost,
    script:
        "../scripts/repair_curves.py"
