import pandas as pd

from mlip_transfer import plotting
from mlip_transfer.files import write_table
from mlip_transfer.layout import group
from mlip_transfer.logs import log_to
from mlip_transfer.models import evaluation, transfer

log = log_to(snakemake.log[0])
params, output = snakemake.params, snakemake.output
boxes = pd.DataFrame(params.concentrations)
per_seed = pd.concat([pd.read_csv(f) for f in group(snakemake.input, "errors").values()], ignore_index=True)
frames = [pd.read_csv(f) for f in group(snakemake.input, "frames").values()]  # rows name model and test set
errors = transfer.ModelErrors.from_frame_errors(
    frames, params.models, list(boxes["concentration"]), block_models=params.block_models
)
table = transfer.matrix_table(evaluation.seed_means(per_seed), errors, boxes)
log.info("transferability matrix:\n%s", table.to_string())
errors.save(output.replicates)
write_table(output.table, table)
write_table(output.per_seed, per_seed)
source = "independent test AIMD" if params.independent_test_sets else "the training AIMD's last time block"
plotting.transferability_heatmaps(table, params.matrix_models, boxes, output, f"test set: {source}")
