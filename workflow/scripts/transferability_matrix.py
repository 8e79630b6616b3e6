import pandas as pd

from mlip_transfer import evaluation, plotting
from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to

log_to(snakemake.log[0])
params = snakemake.params
errors = pd.concat([pd.read_csv(f) for f in snakemake.input], ignore_index=True)
errors["test_molarity_mol_per_L"] = errors["test_concentration"].map(params.molarities)
with atomic_path(snakemake.output.table) as path:
    errors.to_csv(path, index=False)
standard_errors = {"force_rmse_meV_per_A": "force_rmse_se_meV_per_A"}  # resampled test frames
for metric in params.metrics:
    matrix = evaluation.transferability_matrix(errors, metric, params.models, params.concentrations)
    se = standard_errors.get(metric)
    plotting.heatmap(
        matrix,
        evaluation.METRICS[metric],
        snakemake.output[metric],
        params.molarities,
        home=evaluation.home_models(params.concentrations),
        errors=evaluation.transferability_matrix(errors, se, params.models, params.concentrations) if se else None,
    )
