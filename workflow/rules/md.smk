# Production NVT MD with the selected models at the selected concentrations, md.replicas times each (every
# replica from its own AIMD frame and seeds): one job per run through ASE (md.engine: ase), or one batched
# job per model over all its concentrations and replicas (md.engine: torch_sim).


if config["md"]["engine"] == "ase":

    rule run_md:
        input:
            model=LAYOUT.model("{model}"),
            start=md_start,
        output:
            LAYOUT.md("{model}", "{system}"),
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
            md=lambda w: STUDY.md.settings(w.system).as_params(),
            launch=LAUNCH.md,
        script:
            "../scripts/run_md.py"

else:

    rule run_md_batch:
        input:
            **named(
                "start",
                {s: md_start(Namespace(system=s)) for s in STUDY.md.systems},
            ),
            model=LAYOUT.model("{model}"),
        output:
            **{s: LAYOUT.md("{model}", s) for s in STUDY.md.systems},
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
            md={s: STUDY.md.settings(s).as_params() for s in STUDY.md.systems},
            launch=LAUNCH.md,
        script:
            "../scripts/run_md_batch.py"
