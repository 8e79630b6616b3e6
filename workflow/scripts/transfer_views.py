import pandas as pd

from mlip_transfer import plotting
from mlip_transfer.files import write_table
from mlip_transfer.layout import group
from mlip_transfer.logs import log_to
from mlip_transfer.models import transfer
from mlip_transfer.models.uncertainty import MIN_RELIABLE_BLOCKS

log = log_to(snakemake.log[0])
params, output = snakemake.params, snakemake.output
table = pd.read_csv(snakemake.input.table)
errors = transfer.ModelErrors.load(snakemake.input.replicates)
matrix = transfer.transferability_matrix(table, "force_rmse_meV_per_A", params.models, errors.tests)
home = transfer.home_models(errors.tests, params.training)
views = {
    "relative": transfer.relative_to_home(matrix, home),
    "distance": transfer.error_versus_distance(table, params.training, params.molarities),
    "summary": transfer.transfer_summary(
        errors, {**params.training, **params.repaired}, params.external, repaired=list(params.repaired)
    ),
}
advice = transfer.recommendation(errors, views["summary"], params.molarities)
views["recommendation"] = pd.DataFrame([advice])
log.info("%s", advice["statement"])
if "home_test_sets" in output.keys():
    in_trajectory = [pd.read_csv(f) for f in group(snakemake.input, "frames").values()]
    views["home_test_sets"] = transfer.home_test_sets(errors, in_trajectory)
    log.info("home error, own training AIMD's block vs independent test AIMD:\n%s", views["home_test_sets"].to_string())
for name, view in views.items():
    write_table(output[name], view, index=name == "relative")
plotting.heatmap(
    views["relative"],
    "force RMSE / that of the test set's own model",
    output.force_rmse_relative_to_home,
    params.molarities,
    home=home,
    digits=2,
)
plotting.error_versus_distance(views["distance"], output.error_versus_distance)
reliable = bool(errors.n_blocks.min() >= MIN_RELIABLE_BLOCKS)
plotting.ratio_to_best(views["summary"], advice["statement"], reliable, output.ratio_to_best)
