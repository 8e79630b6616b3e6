from mlip_transfer.logs import log_to
from mlip_transfer.reference.cp2k import cp2k_version, write_input_schema

log = log_to(snakemake.log[0])
command = snakemake.params.launch.command
log.info("CP2K: %s", cp2k_version(command))
write_input_schema(command, snakemake.output[0])
