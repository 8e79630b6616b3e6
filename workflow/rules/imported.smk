# Reference data that exists already: AIMD imported from files (a concentration's imported.training or
# .test) in place of CP2K runs, and isolated-atom energies (MACE's E0s) given in the config.


# The frames of an imported AIMD, in the computed AIMD's format; an imported test trajectory is checked
# against its concentration's training frames for shared frames. Every frame's closest pair, binding energy
# (with the E0s) and forces are checked against frame_checks.
rule import_frames:
    input:
        unpack(imported_files),
        e0s=LAYOUT.e0s,
    output:
        LAYOUT.frames("{system}"),
    log:
        log("import_frames", "system"),
    benchmark:
        bench("import_frames", "system")
    wildcard_constraints:
        system=one_of(STUDY.reference.imported_systems),
    conda:
        "../../envs/analysis.yaml"
    resources:
        **slurm_resources("analysis"),
    params:
        source=lambda w: STUDY.reference.import_settings(w.system),
        # what the job accepts, never what it writes: a record, left out of Snakemake's params comparison
        frame_limits=STUDY.reference.frame_limits,
    script:
        "../scripts/import_frames.py"


if STUDY.reference.given_e0s_eV:

    localrules:
        given_reference_energies,

    # reference_energies: the E0s of the method behind imported frames, given with their source
    rule given_reference_energies:
        output:
            LAYOUT.e0s,
        log:
            log("given_reference_energies"),
        benchmark:
            bench("given_reference_energies")
        conda:
            "../../envs/analysis.yaml"
        params:
            e0s_eV=STUDY.reference.given_e0s_eV,
        script:
            "../scripts/given_reference_energies.py"
