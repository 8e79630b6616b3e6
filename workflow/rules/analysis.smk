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
        analysis=lambda w: STUDY.analysis_settings(w.source, w.system),
    script:
        "../scripts/analyse_trajectory.py"


rule summarise_analysis:
    input:
        hbonds=analysed_tables("hbonds"),
        diffusion=analysed_tables("diffusion"),
        rdf=analysed_tables("rdf"),
    output:
        **figures(f"{RUN}/figures", ANALYSIS_FIGURES, "Analysis"),
        hbond_table=f"{RUN}/tables/hbonds.csv",
        diffusion_table=f"{RUN}/tables/diffusion.csv",
    log:
        log("summarise_analysis"),
    benchmark:
        bench("summarise_analysis")
    conda:
        "../../envs/analysis.yaml"
    params:
        runs=STUDY.analysed_runs(),
        molarities=STUDY.molarities(),
        temperatures_K=STUDY.temperatures_K(),
        cation=config["cation"],
    script:
        "../scripts/summarise_analysis.py"
