# Every model on every concentration's test set: the transferability matrix and parity plots.


localrules:
    transferability_matrix,
    transfer_views,
    committee_disagreement,
    study_cost,
    learning_curves,


rule evaluate_model:
    input:
        model=model_file("{model}"),
        test=split_file("{system}", "test"),
    output:
        errors=f"{RUN}/evaluation/{{model}}/{{system}}.csv",
        predictions=f"{RUN}/evaluation/{{model}}/{{system}}.npz",
    log:
        log("evaluate_model", "model", "system"),
    benchmark:
        bench("evaluate_model", "model", "system")
    conda:
        "../../envs/mace.yaml"
    threads: 1
    resources:
        **slurm_resources("evaluation"),
    params:
        default_dtype=config["training"]["default_dtype"],
    script:
        "../scripts/evaluate_model.py"


rule transferability_matrix:
    input:
        expand(
            rules.evaluate_model.output.errors,
            model=[*MODELS, *COMMITTEE],
            system=CONCENTRATIONS,
        ),
    output:
        **figures(
            f"{RUN}/matrix",
            METRICS,
            "Transferability matrix",
            caption="transferability_matrix",
        ),
        table=f"{RUN}/matrix/transferability.csv",
        per_seed=f"{RUN}/matrix/errors_per_seed.csv",
    log:
        log("transferability_matrix"),
    benchmark:
        bench("transferability_matrix")
    conda:
        "../../envs/analysis.yaml"
    params:
        models=MODELS,
        concentrations=CONCENTRATIONS,
        molarities=STUDY.molarities(),
        metrics=METRICS,
    script:
        "../scripts/transferability_matrix.py"


rule transfer_views:
    input:
        rules.transferability_matrix.output.table,
    output:
        **figures(
            f"{RUN}/matrix",
            ["force_rmse_relative_to_home", "error_versus_distance"],
            "Transferability matrix",
        ),
        relative=f"{RUN}/matrix/relative_to_home.csv",
        distance=f"{RUN}/matrix/error_versus_distance.csv",
        summary=in_report(
            f"{RUN}/matrix/transfer_summary.csv",
            "transfer_summary",
            "Transferability matrix",
        ),
        recommendation=in_report(
            f"{RUN}/matrix/recommendation.csv",
            "recommendation",
            "Transferability matrix",
        ),
    log:
        log("transfer_views"),
    benchmark:
        bench("transfer_views")
    conda:
        "../../envs/analysis.yaml"
    params:
        models=MODELS,
        concentrations=CONCENTRATIONS,
        molarities=STUDY.molarities(),
        training=STUDY.training_map(),
    script:
        "../scripts/transfer_views.py"


# Only with training.frame_budgets: force error against the number of training frames.
rule learning_curves:
    input:
        errors=expand(
            rules.evaluate_model.output.errors,
            model=[*FRAME_BUDGET_MODELS, *LEARNING_CURVE_ENDS],
            system=CONCENTRATIONS,
        ),
        full_train=expand(
            split_file("{system}", "train"), system=STUDY.frame_budget_concentrations
        ),
    output:
        **figures(f"{RUN}/matrix", ["learning_curves"], "Transferability matrix"),
        table=f"{RUN}/matrix/learning_curves.csv",
    log:
        log("learning_curves"),
    benchmark:
        bench("learning_curves")
    conda:
        "../../envs/analysis.yaml"
    params:
        budget_frames={m: STUDY.variant(m).frames for m in FRAME_BUDGET_MODELS},
        full_models=LEARNING_CURVE_ENDS,
        molarities=STUDY.molarities(),
    script:
        "../scripts/learning_curves.py"


# From the benchmark files of the AIMD and fine-tuning jobs (MPI ranks and threads: the config's current ones).
rule study_cost:
    input:
        summary=rules.transfer_views.output.summary,
        aimd=expand(
            bench("run_aimd", "system", "segment"),
            system=CONCENTRATIONS,
            segment=range(STUDY.aimd_segments),
        ),
        training=expand(
            bench("fine_tune", "model"),
            model=ALL_FINE_TUNES,
        ),
        learning_curves=(
            [rules.learning_curves.output.table] if FRAME_BUDGET_MODELS else []
        ),
    output:
        **figures(f"{RUN}/cost", ["cost_accuracy"], "Cost"),
        aimd=f"{RUN}/cost/aimd_core_hours.csv",
        models=in_report(f"{RUN}/cost/models.csv", "cost_models", "Cost"),
    log:
        log("study_cost"),
    benchmark:
        bench("study_cost")
    conda:
        "../../envs/analysis.yaml"
    params:
        concentrations=CONCENTRATIONS,
        aimd_segments=STUDY.aimd_segments,
        members=ALL_FINE_TUNES,
    script:
        "../scripts/study_cost.py"


# Only with training.seeds of two or more: does the seeds' disagreement predict the error off home?
rule committee_disagreement:
    input:
        predictions=expand(
            rules.evaluate_model.output.predictions,
            model=SEEDED_FINE_TUNES,
            system=CONCENTRATIONS,
        ),
        errors=rules.transferability_matrix.output.table,
    output:
        **figures(f"{RUN}/matrix", ["committee_disagreement"], "Transferability matrix"),
        table=f"{RUN}/matrix/committee_disagreement.csv",
    log:
        log("committee_disagreement"),
    benchmark:
        bench("committee_disagreement")
    conda:
        "../../envs/analysis.yaml"
    params:
        members=SEEDED_FINE_TUNES,
        concentrations=CONCENTRATIONS,
        training=STUDY.training_map(),
    script:
        "../scripts/committee_disagreement.py"


rule parity_plot:
    input:
        expand(
            rules.evaluate_model.output.predictions,
            system=CONCENTRATIONS,
            allow_missing=True,
        ),
    output:
        figure=[
            in_report(
                f"{RUN}/figures/parity_{{model}}.png",
                "parity",
                "Parity plots",
                model="{model}",
            ),
            f"{RUN}/figures/parity_{{model}}.pdf",
        ],
    log:
        log("parity_plot", "model"),
    benchmark:
        bench("parity_plot", "model")
    conda:
        "../../envs/analysis.yaml"
    resources:
        **slurm_resources("analysis"),
    params:
        concentrations=list(CONCENTRATIONS),
    script:
        "../scripts/parity_plot.py"
