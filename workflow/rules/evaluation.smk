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
        test=test_set_file,
        e0s=rules.collect_reference_energies.output[0],
    output:
        errors=evaluation_file("{model}", "{test_set}", "errors"),
        frames=evaluation_file("{model}", "{test_set}", "frames"),
        predictions=evaluation_file("{model}", "{test_set}", "predictions"),
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
        default_dtype=config["training"]["default_dtype"],
    script:
        "../scripts/evaluate_model.py"


# Every model (all seeds, learning-curve points) on every test set: seed means, block-bootstrap replicates.
rule transferability_matrix:
    input:
        errors=expand(
            evaluation_file("{model}", "{test_set}", "errors"),
            model=EVALUATED_MODELS,
            test_set=CONCENTRATIONS,
        ),
        frames=expand(
            evaluation_file("{model}", "{test_set}", "frames"),
            model=EVALUATED_MODELS,
            test_set=CONCENTRATIONS,
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
        replicates=f"{RUN}/matrix/force_rmse_replicates.npz",
    log:
        log("transferability_matrix"),
    benchmark:
        bench("transferability_matrix")
    conda:
        "../../envs/analysis.yaml"
    params:
        models=[*MODELS, *FRAME_BUDGET_MODELS],
        matrix_models=MODELS,
        concentrations=STUDY.concentration_table(),
        independent_test_sets=bool(STUDY.test_trajectories),
    script:
        "../scripts/transferability_matrix.py"


rule transfer_views:
    input:
        table=rules.transferability_matrix.output.table,
        replicates=rules.transferability_matrix.output.replicates,
        in_trajectory=[
            evaluation_file(m, t, "frames") for m, t in STUDY.in_trajectory_runs()
        ],
    output:
        **figures(
            f"{RUN}/matrix",
            ["force_rmse_relative_to_home", "error_versus_distance"],
            "Transferability matrix",
        ),
        **(
            {
                "home_test_sets": in_report(
                    f"{RUN}/matrix/home_test_sets.csv",
                    "home_test_sets",
                    "Transferability matrix",
                )
            }
            if IN_TRAJECTORY_TEST_SETS
            else {}
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
        molarities=STUDY.molarities(),
        training=STUDY.training_map(),
    script:
        "../scripts/transfer_views.py"


# Only with training.frame_budgets: force error against the number of training frames.
rule learning_curves:
    input:
        expand(
            evaluation_file("{model}", "{test_set}", "errors"),
            model=[*FRAME_BUDGET_MODELS, *LEARNING_CURVE_ENDS],
            test_set=CONCENTRATIONS,
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
        training_frames={
            m: STUDY.training_frames(m)
            for m in [*FRAME_BUDGET_MODELS, *LEARNING_CURVE_ENDS]
        },
        molarities=STUDY.molarities(),
    script:
        "../scripts/learning_curves.py"


# From the benchmark files of the CP2K and fine-tuning jobs (MPI ranks and threads: the config's current ones).
rule study_cost:
    input:
        summary=rules.transfer_views.output.summary,
        cp2k=[
            f
            for jobs in CP2K_BENCHMARKS.values()
            for f in [jobs["relax"], *jobs["aimd"]]
        ],
        training=list(TRAINING_BENCHMARKS.values()),
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
        cp2k_benchmarks=CP2K_BENCHMARKS,
        training_benchmarks=TRAINING_BENCHMARKS,
        systems=STUDY.cost_systems(),
        frames_used={m: STUDY.frames_used(m) for m in ALL_FINE_TUNES},
    script:
        "../scripts/study_cost.py"


# Only with training.seeds of two or more: does the seeds' disagreement predict the error off home?
rule committee_disagreement:
    input:
        predictions=evaluations(COMMITTEE_RUNS, "predictions"),
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
        runs=COMMITTEE_RUNS,  # (member, test set) of each input, in order
        training=STUDY.training_map(),
        members_differ_in=(
            "seed and bootstrap-resampled training frames"
            if config["training"]["committee_training_frames"] == "bootstrap"
            else "seed (initialisation and shuffling)"
        ),
    script:
        "../scripts/committee_disagreement.py"


rule parity_plot:
    input:
        expand(
            evaluation_file("{model}", "{test_set}", "predictions"),
            test_set=CONCENTRATIONS,
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
        concentrations=CONCENTRATIONS,  # the test set of each input, in order
    script:
        "../scripts/parity_plot.py"
