from pathlib import Path

from ase.io import read

from mlip_transfer.files import copy_file
from mlip_transfer.logs import log_to
from mlip_transfer.reference import cp2k, cp2k_output

log = log_to(snakemake.log[0])
aimd = snakemake.params.aimd
tree = cp2k.aimd_input_tree(
    read(snakemake.input.box),
    snakemake.params.electronic_structure,
    project=cp2k_output.AIMD_PROJECT,
    steps=aimd["end_step"],
    timestep_fs=aimd["timestep_fs"],
    temperature_K=aimd["temperature_K"],
    thermostat_time_constant_fs=aimd["thermostat_time_constant_fs"],
    print_every=aimd["print_every"],
    seed=aimd["seed"],
)
run_dir = Path(snakemake.params.run_dir)
cp2k.run_resumable(
    tree,
    run_dir,
    cp2k_output.AIMD_PROJECT,
    command=snakemake.params.launch.command,
    threads=snakemake.threads,
    xmlspec=snakemake.input.schema,
    start_from=snakemake.input.get("start"),
)
for name in cp2k_output.MD_FILES:
    # CP2K names its files after the project; the rule's outputs carry the same names
    copy_file(run_dir / Path(snakemake.output[name]).name, snakemake.output[name])
log.info(
    "AIMD of %s, segment %s: MD steps up to %d done",
    snakemake.wildcards.system,
    snakemake.wildcards.segment,
    aimd["end_step"],
)
