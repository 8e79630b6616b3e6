import pandas as pd
from ase.io import read

from mlip_transfer import evaluation, plotting
from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to

log = log_to(snakemake.log[0])
params = snakemake.params
training_frames = dict(params.budget_frames)  # "ft_<label>.frames<n>" -> n
for model, train_file in zip(params.full_models, snakemake.input.full_train, strict=True):
    training_frames[model] = len(read(train_file, index=":"))  # the fine-tune on all its training frames
errors = pd.concat([pd.read_csv(f) for f in snakemake.input.errors], ignore_index=True)
table = evaluation.learning_curves(errors, training_frames)
log.info("learning curves:\n%s", table.to_string())
with atomic_path(snakemake.output.table) as path:
    table.to_csv(path, index=False)
plotting.learning_curves(table, params.molarities, snakemake.output.learning_curves)
