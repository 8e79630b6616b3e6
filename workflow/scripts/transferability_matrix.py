import pandas as pd

from mlip_transfer import evaluation, plotting
from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to

log_to(snakemake.log[0])
errors = pd.concat([pd.read_csv(f) for f in snakemake.input], ignore_index=True)
errors["test_molarity_mol_per_L"] = errors["test_concentration"].map(snakemake.params.molarities)
with atomic_path(snakemake.output.table) as path:
    errors.to_csv(path, index=False)
for metric in snakemake.params.metrics:
    matrix = evaluation.transferability_matrix(errors, metric, snakemake.params.models, snakemake.params.concentrations)
    plotting.heatmap(matrix, evaluation.METRICS[metric], snakemake.output[metric], snakemake.params.molarities)
