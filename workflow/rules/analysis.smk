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
        analysis=config["analysis"],
        timing=trajectory_timing,
        temperature_K=lambda w: system_temperature_K(w.system),
        viscosity_mPa_s=lambda w: config["analysis"]
        .get("viscosity_mPa_s", {})
        .get(w.system),
    script:
        "../scripts/analyse_trajectory.py"


rule summarise_analysis:
    input:
        [
            analysis_tables(m, c)[t]
            for m, c in analysed_runs()
            for t in ("hbonds", "diffusion", "rdf")
        ],
    output:
        hbonds=f"{RUN}/tables/hbonds.csv",
        diffusion=f"{RUN}/tables/diffusion.csv",
        figures=figures(f"{RUN}/figures", ANALYSIS_FIGURES, "Analysis"),
    log:
        log("summarise_analysis"),
    benchmark:
        bench("summarise_analysis")
    conda:
        "../../envs/analysis.yaml"
    params:
        runs=analysed_runs(),
        molarities={c: molarity(c) for c in CONCENTRATIONS},
        temperatures_K={c: system_temperature_K(c) for c in CONCENTRATIONS},
    script:
        "../scripts/summarise_analysis.py"
