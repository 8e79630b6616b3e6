# Production NVT MD with the selected models, started from the last AIMD frame of each concentration:
# one job per run through ASE (md.engine: ase), or one batched job per model over all its concentrations
# (md.engine: torch_sim).


if config["md"]["engine"] == "ase":

    rule run_md:
        input:
            model=model_file("{model}"),
            start=rules.extract_frames.output[0],
        output:
            f"{RUN}/md/{{model}}/{{system}}.h5",
        log:
            log("run_md", "model", "system"),
        benchmark:
            bench("run_md", "model", "system")
        conda:
            "../../envs/mace.yaml"
        threads: config["md"]["threads"]
        resources:
            **slurm_resources("md"),
        params:
            md=lambda w: STUDY.md_settings(w.system),
        script:
            "../scripts/run_md.py"

else:

    rule run_md_batch:
        input:
            model=model_file("{model}"),
            starts=expand(rules.extract_frames.output[0], system=MD_CONCENTRATIONS),
        output:
            expand(f"{RUN}/md/{{{{model}}}}/{{system}}.h5", system=MD_CONCENTRATIONS),
        log:
            log("run_md_batch", "model"),
        benchmark:
            bench("run_md_batch", "model")
        conda:
            "../../envs/mace.yaml"
        threads: config["md"]["threads"]
        resources:
            **slurm_resources("md"),
        params:
            md=[STUDY.md_settings(c) for c in MD_CONCENTRATIONS],
        script:
            "../scripts/run_md_batch.py"
