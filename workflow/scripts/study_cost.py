import pandas as pd

from mlip_transfer import cost, plotting
from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to

log = log_to(snakemake.log[0])
params, config = snakemake.params, snakemake.config
# How the jobs ran, as the config says now (benchmark files do not record it)
ranks = config.get("cluster", {}).get("resources", {}).get("cp2k", {}).get("tasks", 1)
segments = iter(snakemake.input.aimd)  # the rule's expand(): systems outer, segments inner
aimd = cost.aimd_core_hours(
    {system: [next(segments) for _ in range(params.aimd_segments)] for system in params.concentrations},
    mpi_ranks=ranks,
    threads_per_rank=config["cp2k"]["threads"],
)
training_wall_h = cost.training_wall_hours(dict(zip(params.members, snakemake.input.training, strict=True)))
threads = config["training"]["threads"]
models = cost.model_costs(pd.read_csv(snakemake.input.summary), aimd, training_wall_h, training_threads=threads)
if snakemake.input.learning_curves:  # the frame budgets' fine-tunes, each its own point
    curves = pd.read_csv(snakemake.input.learning_curves[0])
    budgets = cost.frame_budget_costs(curves, aimd, training_wall_h, training_threads=threads)
    models = pd.concat([models, budgets], ignore_index=True)
log.info("AIMD cost:\n%s\nmodels:\n%s", aimd.to_string(), models.to_string())
for table, name in ((aimd, "aimd"), (models, "models")):
    with atomic_path(snakemake.output[name]) as path:
        table.to_csv(path, index=False)
plotting.cost_accuracy(models, snakemake.output.cost_accuracy)
