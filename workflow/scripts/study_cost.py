import pandas as pd

from mlip_transfer import plotting
from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to
from mlip_transfer.models import cost

log = log_to(snakemake.log[0])
params, config = snakemake.params, snakemake.config
# How the jobs ran, as the config says now (benchmark files do not record it)
ranks = config.get("cluster", {}).get("resources", {}).get("cp2k", {}).get("tasks", 1)
aimd = cost.aimd_costs(
    params.cp2k_benchmarks, params.systems, mpi_ranks=ranks, threads_per_rank=config["cp2k"]["threads"]
)
training_wall_h = cost.training_wall_hours(params.training_benchmarks)
models = cost.model_costs(
    pd.read_csv(snakemake.input.summary),
    aimd,
    params.frames_used,
    training_wall_h,
    training_threads=config["training"]["threads"],
)
log.info("AIMD cost:\n%s\nmodels:\n%s", aimd.to_string(), models.to_string())
for table, name in ((aimd, "aimd"), (models, "models")):
    with atomic_path(snakemake.output[name]) as path:
        table.to_csv(path, index=False)
plotting.cost_accuracy(models, snakemake.output.cost_accuracy)
