# Reference data computed with CP2K (included where cp2k is configured): boxes, CP2K inputs checked against
# the installed CP2K, isolated-atom energies (MACE's E0s) and AIMD per computed system (each concentration,
# plus the pretraining box of a demo foundation model).


localrules:
    cp2k_input_schema,
    build_box,


rule cp2k_input_schema:
    output:
        LAYOUT.cp2k_input_schema,
    log:
        log("cp2k_input_schema"),
    benchmark:
        bench("cp2k_input_schema")
    conda:
        "../../envs/cp2k.yaml"
    envmodules:
        *CP2K_ENVMODULES,
    params:
        launch=LAUNCH.cp2k,
    script:
        "../scripts/cp2k_input_schema.py"


rule build_box:
    output:
        LAYOUT.box("{system}"),
    log:
        log("build_box", "system"),
    benchmark:
        bench("build_box", "system")
    conda:
        "../../envs/cp2k.yaml"
    params:
        box=lambda w: STUDY.reference.box_settings(w.system),
    script:
        "../scripts/build_box.py"


rule relax_box:
    input:
        box=rules.build_box.output[0],
        schema=rules.cp2k_input_schema.output[0],
    output:
        LAYOUT.relaxed_box("{system}"),
    log:
        log("relax_box", "system"),
    benchmark:
        bench("relax_box", "system")
    conda:
        "../../envs/cp2k.yaml"
    envmodules:
        *CP2K_ENVMODULES,
    threads: config["cp2k"]["threads"]
    resources:
        **slurm_resources("cp2k"),
    params:
        electronic_structure=STUDY.reference.electronic_structure(),
        max_iterations=config["cp2k"]["relax_max_iterations"],
        run_dir=output_dir,
        launch=LAUNCH.cp2k,
    script:
        "../scripts/relax_box.py"


rule isolated_atom_energy:
    input:
        schema=rules.cp2k_input_schema.output[0],
    output:
        LAYOUT.isolated_atom_energy("{element}"),
    log:
        log("isolated_atom_energy", "element"),
    benchmark:
        bench("isolated_atom_energy", "element")
    conda:
        "../../envs/cp2k.yaml"
    envmodules:
        *CP2K_ENVMODULES,
    threads: 1
    resources:
        **slurm_resources("cp2k"),
    params:
        electronic_structure=STUDY.reference.electronic_structure(),
        box_length_A=config["cp2k"]["isolated_atom_box_A"],
        run_dir=output_dir,
        launch=LAUNCH.cp2k,
    script:
        "../scripts/isolated_atom_energy.py"


if not STUDY.reference.given_e0s_eV:

    localrules:
        collect_reference_energies,

    rule collect_reference_energies:
        input:
            **{e: LAYOUT.isolated_atom_energy(e) for e in STUDY.hydroxide.elements},
        output:
            LAYOUT.e0s,
        log:
            log("collect_reference_energies"),
        benchmark:
            bench("collect_reference_energies")
        conda:
            "../../envs/cp2k.yaml"
        params:
            elements=STUDY.hydroxide.elements,
        script:
            "../scripts/collect_reference_energies.py"


# One walltime-sized segment of a system's AIMD. CP2K works in run/ beside the outputs, which Snakemake
# does not own: a segment cut off by the walltime or a node failure continues there from its restart file
# (`retries` in the SLURM profile resubmits it), and finished segments are never recomputed.
rule run_aimd:
    input:
        unpack(previous_aimd_segment),
        box=rules.relax_box.output[0],
        schema=rules.cp2k_input_schema.output[0],
    output:
        **{
            kind: LAYOUT.aimd_segment("{system}", "{segment}", kind)
            for kind in cp2k_output.MD_FILES
        },
    log:
        log("run_aimd", "system", "segment"),
    benchmark:
        bench("run_aimd", "system", "segment")
    conda:
        "../../envs/cp2k.yaml"
    envmodules:
        *CP2K_ENVMODULES,
    threads: config["cp2k"]["threads"]
    resources:
        **slurm_resources("cp2k"),
    params:
        electronic_structure=STUDY.reference.electronic_structure(),
        aimd=lambda w: STUDY.reference.aimd_settings(w.system, int(w.segment)),
        run_dir=cp2k_run_dir,
        launch=LAUNCH.cp2k,
    script:
        "../scripts/run_aimd.py"
