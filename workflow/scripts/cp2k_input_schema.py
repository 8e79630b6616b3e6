from mlip_transfer.cp2k import cp2k_version, write_input_schema
from mlip_transfer.logs import log_to

log = log_to(snakemake.log[0])
log.info("CP2K: %s", cp2k_version(snakemake.params.command))
write_input_schema(snakemake.params.command, snakemake.output[0])
