import pandas as pd

from mlip_transfer import plotting
from mlip_transfer.files import write_table
from mlip_transfer.layout import group
from mlip_transfer.logs import log_to
from mlip_transfer.repair import curves

log = log_to(snakemake.log[0])
params, output, launch = snakemake.params, snakemake.output, snakemake.params.launch
frame_errors = [pd.read_csv(f) for f in group(snakemake.input, "frames").values()]
errors = curves.repair_errors(frame_errors, params.repairs, params.tests)
per_frame = curves.core_hours_per_frame(
    params.repairs, snakemake.input.aimd_cost, group(snakemake.input, "labelling"), launch
)
table = curves.curves(errors, params.repairs, per_frame)
selected = curves.selected_frames(params.repairs, group(snakemake.input, "selected"), group(snakemake.input, "pool"))
own = curves.own_errors(snakemake.input.matrix, params.own_models)
summary = curves.summary(errors, params.repairs, table, own, params.homes)
for sentence in summary["statement"]:
    log.info("%s", sentence)
write_table(output.table, table)
write_table(output.selected_frames, selected)
write_table(output.summary, summary)
plotting.repair_curves(table, summary, params.homes, output.curves)
