# Every model on every concentration's test set: the transferability matrix and parity plots.


localrules:
    transferability_matrix,
    transfer_views,
    committee_disagreement,
    study_cost,
    learning_curves,


rule evaluate_model:
    input:
        model=LAYOUT.model("{model}"),
        test=test_set_file,
        e0s=LAYOUT.e0s,
    output:
        **{
            kind: LAYOUT.evaluation("{model}", "{test_set}", kind)
            for kind in ("errors", "frames", "predictions")
        },
    log:
        log("evaluate_model", "model", "test_set"),
    benchmark:
        bench("evaluate_model", "model", "test_set")
    conda:
        "../../envs/mace.yaml"
    threads: 1
    resources:
        **slurm_resources("evaluation"),
    params:
        default_dtype=STUDY.models.evaluation_dtype,
        launch=LAUNCH.evaluation,
    script:
        "../scripts/evaluate_model.py"


# Every model (all seeds, learning-curve points) on every test set: seed means, block-bootstrap replicates.
rule transferability_matrix:
    input:
        **evaluations(every_model_on_every_test_set(EVALUATED_MODELS), "errors"),
        **evaluations(every_model_on_every_test_set(EVALUATED_MODELS), "frames"),
    output:
        **figures(
            "matrix",
            METRICS,
            "Transferability matrix",
            caption="transferability_matrix",
        ),
        table=LAYOUT.matrix_table("transferability"),
        per_seed=LAYOUT.matrix_table("errors_per_seed"),
        replicates=LAYOUT.matrix_table("force_rmse_replicates", ".npz"),
    log:
        log("transferability_matrix"),
    benchmark:
        bench("transferability_matrix")
    conda:
        "../../envs/analysis.yaml"
    params:
        models=[
            *MODELS,
            *STUDY.models.frame_budget_models,
            *STUDY.repair.models_repaired,
        ],
        matrix_models=MODELS,
        # the test sets' blocks: from the study's own models, whatever repairs are added
        block_models=[*MODELS, *STUDY.models.frame_budget_models],
        concentrations=STUDY.reference.concentration_table(),
        independent_test_sets=bool(STUDY.reference.test_trajectories),
    script:
        "../scripts/transferability_matrix.py"


rule transfer_views:
    input:
        **evaluations(STUDY.models.in_trajectory_runs(), "frames"),
        table=rules.transferability_matrix.output.table,
        replicates=rules.transferability_matrix.output.replicates,
    output:
        **figures("matrix", ["ratio_to_best"], "Answer"),
        **figures(
            "matrix",
            ["force_rmse_relative_to_home", "error_versus_distance"],
            "Transferability matrix",
        ),
        **(
            {
                "home_test_sets": in_report(
                    LAYOUT.matrix_table("home_test_sets"),
                    "home_test_sets",
                    "Transferability matrix",
                )
            }
            if STUDY.reference.in_trajectory_test_sets
            else {}
        ),
        relative=LAYOUT.matrix_table("relative_to_home"),
        distance=LAYOUT.matrix_table("error_versus_distance"),
        summary=in_report(
            LAYOUT.matrix_table("transfer_summary"),
            "transfer_summary",
            "Transferability matrix",
        ),
        recommendation=in_report(
            LAYOUT.matrix_table("recommendation"),
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
        molarities=STUDY.reference.molarities(),
        training=STUDY.models.training_map(),
        external=list(STUDY.models.external),
        repaired=STUDY.repair.training_map(),
    script:
        "../scripts/transfer_views.py"


# Only with training.frame_budgets: force error against the number of training frames.
rule learning_curves:
    input:
        **evaluations(
            every_model_on_every_test_set(
                [*STUDY.models.frame_budget_models, *STUDY.models.learning_curve_ends]
            ),
            "errors",
        ),
    output:
        **figures("matrix", ["learning_curves"], "Transferability matrix"),
        table=LAYOUT.matrix_table("learning_curves"),
    log:
        log("learning_curves"),
    benchmark:
        bench("learning_curves")
    conda:
        "../../envs/analysis.yaml"
    params:
        training_frames={
            m: STUDY.models.training_frames(m)
            for m in [
                *STUDY.models.frame_budget_models,
                *STUDY.models.learning_curve_ends,
            ]
        },
        molarities=STUDY.reference.molarities(),
    script:
        "../scripts/learning_curves.py"


# From the benchmark files of the CP2K and fine-tuning jobs (MPI ranks and threads: the config's current ones).
rule study_cost:
    input:
        **cost_benchmarks(),
        summary=rules.transfer_views.output.summary,
    output:
        **figures("cost", ["cost_accuracy"], "Cost"),
        aimd=LAYOUT.cost_table("aimd_core_hours"),
        models=in_report(LAYOUT.cost_table("models"), "cost_models", "Cost"),
    log:
        log("study_cost"),
    benchmark:
        bench("study_cost")
    conda:
        "../../envs/analysis.yaml"
    params:
        systems=STUDY.reference.cost_systems(),
        frames_used={
            **{m: STUDY.models.frames_used(m) for m in STUDY.models.all_fine_tunes},
            **STUDY.repair.frames_used(),
        },
        launch=LAUNCH.cost,
    script:
        "../scripts/study_cost.py"


# Only with training.seeds of two or more: does the seeds' disagreement predict the error off home?
rule committee_disagreement:
    input:
        **evaluations(STUDY.models.committee_runs, "predictions"),
        errors=rules.transferability_matrix.output.table,
    output:
        **figures("matrix", ["committee_disagreement"], "Transferability matrix"),
        table=LAYOUT.matrix_table("committee_disagreement"),
    log:
        log("committee_disagreement"),
    benchmark:
        bench("committee_disagreement")
    conda:
        "../../envs/analysis.yaml"
    params:
        training=STUDY.models.training_map(),
        members_differ_in=STUDY.models.committee_members_differ_in,
    script:
        "../scripts/committee_disagreement.py"


rule parity_plot:
    input:
        **named(
            "predictions",
            {
                t: LAYOUT.evaluation("{model}", t, "predictions")
                for t in CONCENTRATIONS
            },
        ),
    output:
        figure=figure(
            "figures", "parity_{model}", "Parity plots", "parity", model="{model}"
        ),
    log:
        log("parity_plot", "model"),
    benchmark:
        bench("parity_plot", "model")
    conda:
        "../../envs/analysis.yaml"
    resources:
        **slurm_resources("analysis"),
    script:
        "../scripts/parity_plot.py"
