import pandas as pd

from mlip_transfer import plotting
from mlip_transfer.files import write_table
from mlip_transfer.layout import group
from mlip_transfer.logs import log_to
from mlip_transfer.models import evaluation
from mlip_transfer.names import run_parts, without_seed

log = log_to(snakemake.log[0])
params = snakemake.params
members = {}  # (model, test concentration) -> every seed's predictions
for run, path in group(snakemake.input, "predictions").items():
    member, test = run_parts(run)
    members.setdefault((without_seed(member), test), []).append(evaluation.Predictions.load(path))
errors = pd.read_csv(snakemake.input.errors).set_index(["model", "test_concentration"])
table = pd.DataFrame(
    [
        {
            "model": model,
            "test_concentration": test,
            "home": test in params.training[model],
            "n_seeds": len(predictions),
            "members_differ_in": params.members_differ_in,
            "committee_force_sd_meV_per_A": evaluation.committee_force_sd(predictions),
            "force_rmse_meV_per_A": errors.loc[(model, test), "force_rmse_meV_per_A"],
            "force_rmse_sd_meV_per_A": errors.loc[(model, test), "force_rmse_sd_meV_per_A"],
        }
        for (model, test), predictions in members.items()
    ]
)
log.info("committee disagreement:\n%s", table.to_string())
write_table(snakemake.output.table, table)
plotting.committee_disagreement(table, snakemake.output.committee_disagreement, params.members_differ_in)
