import pandas as pd

from mlip_transfer import evaluation, plotting
from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to

log_to(snakemake.log[0])
params = snakemake.params
per_seed = pd.concat([pd.read_csv(f) for f in snakemake.input], ignore_index=True)
errors = evaluation.seed_statistics(per_seed)
errors["test_molarity_mol_per_L"] = errors["test_concentration"].map(params.molarities)
for table, name in ((errors, "table"), (per_seed, "per_seed")):
    with atomic_path(snakemake.output[name]) as path:
        table.to_csv(path, index=False)
n_seeds = int(errors["n_seeds"].max())
# The force RMSE's ± is the spread over seeds where there is a committee, else the test frames' resampling.
spread, note = (
    ("force_rmse_sd_meV_per_A", f" (mean ± sd over {n_seeds} seeds)")
    if n_seeds > 1
    else ("force_rmse_se_meV_per_A", " (± frame-bootstrap se)")
)
for metric in params.metrics:
    matrix = evaluation.transferability_matrix(errors, metric, params.models, params.concentrations)
    has_spread = metric == "force_rmse_meV_per_A"
    plotting.heatmap(
        matrix,
        evaluation.METRICS[metric] + (note if has_spread else ""),
        snakemake.output[metric],
        params.molarities,
        home=evaluation.home_models(params.concentrations),
        errors=evaluation.transferability_matrix(errors, spread, params.models, params.concentrations)
        if has_spread
        else None,
    )
