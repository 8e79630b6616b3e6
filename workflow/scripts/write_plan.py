import pandas as pd

from mlip_transfer.files import write_table
from mlip_transfer.logs import log_to

log = log_to(snakemake.log[0])
plan = pd.DataFrame(snakemake.params.stages)
log.info("what the study asks of a SLURM allocation:\n%s", plan.to_string(index=False))
write_table(snakemake.output[0], plan)
