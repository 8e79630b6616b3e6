import pandas as pd

from mlip_transfer import plotting
from mlip_transfer.files import write_table
from mlip_transfer.logs import log_to
from mlip_transfer.models.own_md import own_md_errors

log = log_to(snakemake.log[0])
params, output = snakemake.params, snakemake.output
frames = [table for path in snakemake.input.frames for _, table in pd.read_csv(path).groupby("test_concentration")]
every_model, runs = own_md_errors(
    frames, params.models, [tuple(r) for r in params.runs], pd.read_csv(snakemake.input.matrix), params.within_percent
)
log.info("models on their own MD frames:\n%s", runs.to_string())
write_table(output.runs, runs)
write_table(output.every_model, every_model)
plotting.own_md_errors(runs, params.within_percent, output.own_md_errors)
