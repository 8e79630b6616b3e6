# Production NVT MD with the selected models at the selected concentrations, md.replicas times each (every
# replica from its own AIMD frame and seeds): one job per run through ASE (md.engine: ase), or one batched
# job per model over all its concentrations and replicas (md.engine: torch_sim).


if config["md"]["engine"] == "ase":

    rule run_md:
        input:
            model=model_file("{model}"),
            start=md_start,
        output:
            md_file("{model}", "{system}"),
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
            starts=[md_start(Namespace(system=s)) for s in MD_SYSTEMS],
        output:
            [md_file("{model}", s) for s in MD_SYSTEMS],
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
            md=[STUDY.md_settings(s) for s in MD_SYSTEMS],  # one per box, in the order of starts and outputs
        script:
            "../scripts/run_md_batch.py"
