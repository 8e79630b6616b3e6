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


# Did each MD run stay where its model was trained (the AIMD of its concentration)?
rule md_stability:
    input:
        md=md_file("{model}", "{system}"),
        aimd=md_start,
    output:
        stability_file("{model}", "{system}"),
    log:
        log("md_stability", "model", "system"),
    benchmark:
        bench("md_stability", "model", "system")
    conda:
        "../../envs/analysis.yaml"
    resources:
        **slurm_resources("analysis"),
    params:
        skip_frames=lambda w: STUDY.analysis_settings(w.model, w.system)["skip_frames"],
        max_outside_fraction=config["analysis"]["max_outside_aimd_fraction"],
    script:
        "../scripts/md_stability.py"


rule summarise_analysis:
    input:
        stability=[stability_file(m, s) for m, s in MD_RUNS],
        hbonds=analysed_tables("hbonds"),
        diffusion=analysed_tables("diffusion"),
        rdf=analysed_tables("rdf"),
    output:
        **figures(f"{RUN}/figures", ANALYSIS_FIGURES, "Analysis"),
        hbond_table=f"{RUN}/tables/hbonds.csv",
        diffusion_table=f"{RUN}/tables/diffusion.csv",
        hbond_runs=f"{RUN}/tables/hbonds_per_replica.csv",
        diffusion_runs=f"{RUN}/tables/diffusion_per_replica.csv",
        stability=f"{RUN}/tables/md_stability.csv",
    log:
        log("summarise_analysis"),
    benchmark:
        bench("summarise_analysis")
    conda:
        "../../envs/analysis.yaml"
    params:
        runs=STUDY.analysed_runs(),  # (source, system) of each input, in order
        md_runs=MD_RUNS,  # of each stability input, in order
        molarities=STUDY.molarities(),
        temperatures_K=STUDY.temperatures_K(),
        cation=config["cation"],
    script:
        "../scripts/summarise_analysis.py"
