import pandas as pd

from mlip_transfer import plotting
from mlip_transfer.files import write_table
from mlip_transfer.layout import group
from mlip_transfer.logs import log_to
from mlip_transfer.models import cost

log = log_to(snakemake.log[0])
params, launch = snakemake.params, snakemake.params.launch  # how the jobs ran, as the config says now
aimd = cost.aimd_costs(
    cost.aimd_benchmarks(group(snakemake.input, "relax"), group(snakemake.input, "aimd")),
    params.systems,
    mpi_ranks=launch.cp2k_mpi_ranks,
    threads_per_rank=launch.cp2k_threads_per_rank,
)
training_wall_h = cost.training_wall_hours(group(snakemake.input, "training"))
models = cost.model_costs(
    pd.read_csv(snakemake.input.summary),
    aimd,
    params.frames_used,
    training_wall_h,
    training_threads=launch.training_threads,
)
log.info("AIMD cost:\n%s\nmodels:\n%s", aimd.to_string(), models.to_string())
write_table(snakemake.output.aimd, aimd)
write_table(snakemake.output.models, models)
plotting.cost_accuracy(models, snakemake.output.cost_accuracy)
