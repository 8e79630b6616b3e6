import pandas as pd

from mlip_transfer import plotting
from mlip_transfer.files import write_table
from mlip_transfer.layout import group
from mlip_transfer.logs import log_to
from mlip_transfer.models import evaluation

log = log_to(snakemake.log[0])
params = snakemake.params
errors = pd.concat([pd.read_csv(f) for f in group(snakemake.input, "errors").values()], ignore_index=True)
table = evaluation.learning_curves(errors, params.training_frames)  # each row names its model and test set
log.info("learning curves:\n%s", table.to_string())
write_table(snakemake.output.table, table)
plotting.learning_curves(table, params.molarities, snakemake.output.learning_curves)
