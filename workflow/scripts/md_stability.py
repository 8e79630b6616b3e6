import pandas as pd

from mlip_transfer.dynamics import trajectory
from mlip_transfer.dynamics.stability import Envelope, stability_report
from mlip_transfer.files import read_frames, write_table
from mlip_transfer.logs import log_to

log = log_to(snakemake.log[0])
envelope = Envelope.of_aimd(read_frames(snakemake.input.aimd))
row = stability_report(
    trajectory.read(snakemake.input.md), envelope, snakemake.params.skip_frames, snakemake.params.max_outside_fraction
)
row["md_stopped_early"] = trajectory.stop_reason(snakemake.input.md)
row["left_aimd_range"] = bool(row["left_aimd_range"] or row["md_stopped_early"])
log.info("%s", row)
write_table(snakemake.output[0], pd.DataFrame([row]))
