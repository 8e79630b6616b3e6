# Hydroxide identity, hydrogen bonds, RDFs and diffusion of every MD run and of the AIMD reference,
# then tables and figures across concentrations.


localrules:
    summarise_analysis,


def analysis_input(wildcards):
    if wildcards.source == "AIMD":
        return rules.extract_frames.output[0].format(system=wildcards.system)
    return rules.run_md.output[0].format(model=wildcards.source, system=wildcards.system)


def frame_interval_ps(wildcards):
    if wildcards.source == "AIMD":
        aimd = config["cp2k"]["aimd"]
        return aimd["timestep_fs"] * aimd["print_every"] / 1000.0
    return config["md"]["timestep_fs"] * config["md"]["write_interval"] / 1000.0


rule analyse_trajectory:
    input:
        analysis_input,
    output:
        **analysis_tables("{source}", "{system}"),
    params:
        analysis=config["analysis"],
        frame_interval_ps=frame_interval_ps,
    log:
        log("analyse_trajectory", "source", "system"),
    benchmark:
        bench("analyse_trajectory", "source", "system")
    script:
        "../scripts/analyse_trajectory.py"


rule summarise_analysis:
    input:
        [analysis_tables(m, c)[t] for m, c in analysed_runs() for t in ("hbonds", "diffusion", "rdf")],
    output:
        hbonds=f"{RUN}/tables/hbonds.csv",
        diffusion=f"{RUN}/tables/diffusion.csv",
        figures=expand(
            f"{RUN}/figures/{{fig}}.{{ext}}",
            fig=["hbonds_per_OH", "OH_OH_hbonds", "diffusion", "rdf"],
            ext=["png", "pdf"],
        ),
    params:
        runs=analysed_runs(),
        molarities={c: molarity(c) for c in CONCENTRATIONS},
        figure_dir=f"{RUN}/figures",
    log:
        log("summarise_analysis"),
    benchmark:
        bench("summarise_analysis")
    script:
        "../scripts/summarise_analysis.py"
