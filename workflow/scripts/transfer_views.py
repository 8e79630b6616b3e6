import pandas as pd

from mlip_transfer import evaluation, plotting
from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to

log = log_to(snakemake.log[0])
params, output = snakemake.params, snakemake.output
errors = pd.read_csv(snakemake.input[0])
matrix = evaluation.transferability_matrix(errors, "force_rmse_meV_per_A", params.models, params.concentrations)
relative = evaluation.relative_to_home(matrix)
distance = evaluation.error_versus_distance(errors, params.training, params.molarities)
summary = evaluation.transfer_summary(errors, params.training, params.models)
advice = evaluation.recommendation(summary, params.molarities)
log.info("%s", advice["statement"])
for table, name in ((relative, "relative"), (distance, "distance"), (summary, "summary")):
    with atomic_path(output[name]) as path:
        table.to_csv(path, index=name == "relative")
with atomic_path(output.recommendation) as path:
    pd.DataFrame([advice]).to_csv(path, index=False)
plotting.heatmap(
    relative,
    "force RMSE / that of the test set's own model",
    output.force_rmse_relative_to_home,
    params.molarities,
    home=evaluation.home_models(params.concentrations),
    digits=2,
)
plotting.error_versus_distance(distance, output.error_versus_distance)
