# Production NVT MD with the selected models, started from the last AIMD frame of each concentration.


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
