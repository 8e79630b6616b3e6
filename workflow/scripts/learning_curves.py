import pandas as pd

from mlip_transfer import plotting
from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to
from mlip_transfer.models import evaluation

log = log_to(snakemake.log[0])
params = snakemake.params
errors = pd.concat([pd.read_csv(f) for f in snakemake.input], ignore_index=True)  # each names model and test set
table = evaluation.learning_curves(errors, params.training_frames)
log.info("learning curves:\n%s", table.to_string())
with atomic_path(snakemake.output.table) as path:
    table.to_csv(path, index=False)
plotting.learning_curves(table, params.molarities, snakemake.output.learning_curves)
