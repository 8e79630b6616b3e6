# Hydroxide identity, hydrogen bonds, RDFs and diffusion of every MD run and of the AIMD reference,
# then tables and figures across concentrations.


localrules:
    summarise_analysis,


rule analyse_trajectory:
    input:
        analysis_input,
    output:
        **analysis_tables("{source}", "{system}"),
    log:
        log("analyse_trajectory", "source", "system"),
    benchmark:
        bench("analyse_trajectory", "source", "system")
    conda:
        "../../envs/analysis.yaml"
    resources:
        **slurm_resources("analysis"),
    params:
        analysis=lambda w: STUDY.analysis.settings(w.source, w.system).as_params(),
    script:
        "../scripts/analyse_trajectory.py"


# Did each MD run stay where its model was trained (the AIMD of its concentration)?
rule md_stability:
    input:
        md=LAYOUT.md("{model}", "{system}"),
        aimd=md_start,
    output:
        LAYOUT.stability("{model}", "{system}"),
    log:
        log("md_stability", "model", "system"),
    benchmark:
        bench("md_stability", "model", "system")
    conda:
        "../../envs/analysis.yaml"
    resources:
        **slurm_resources("analysis"),
    params:
        skip_frames=STUDY.md.equilibration_frames(),
        max_outside_fraction=config["analysis"]["max_outside_aimd_fraction"],
    script:
        "../scripts/md_stability.py"


rule summarise_analysis:
    input:
        **named(
            "stability",
            {names.run_id(m, s): LAYOUT.stability(m, s) for m, s in MD_RUNS},
        ),
        **analysed_tables("hbonds"),
        **analysed_tables("diffusion"),
        **analysed_tables("rdf"),
    output:
        **figures("figures", ANALYSIS_FIGURES, "Analysis"),
        hbond_table=LAYOUT.summary_table("hbonds"),
        diffusion_table=LAYOUT.summary_table("diffusion"),
        hbond_runs=LAYOUT.summary_table("hbonds_per_replica"),
        diffusion_runs=LAYOUT.summary_table("diffusion_per_replica"),
        stability=LAYOUT.summary_table("md_stability"),
    log:
        log("summarise_analysis"),
    benchmark:
        bench("summarise_analysis")
    conda:
        "../../envs/analysis.yaml"
    params:
        molarities=STUDY.reference.molarities(),
        temperatures_K=STUDY.reference.temperatures_K(),
        cation=config["cation"],
    script:
        "../scripts/summarise_analysis.py"
