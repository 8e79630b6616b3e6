import pandas as pd
from ase.io import read

from mlip_transfer.dynamics import trajectory
from mlip_transfer.dynamics.stability import Envelope, stability_report
from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to

log = log_to(snakemake.log[0])
envelope = Envelope.of_aimd(read(snakemake.input.aimd, index=":"))
row = stability_report(
    trajectory.read(snakemake.input.md), envelope, snakemake.params.skip_frames, snakemake.params.max_outside_fraction
)
row["md_stopped_early"] = trajectory.stop_reason(snakemake.input.md)
row["left_aimd_range"] = bool(row["left_aimd_range"] or row["md_stopped_early"])
log.info("%s", row)
with atomic_path(snakemake.output[0]) as path:
    pd.DataFrame([row]).to_csv(path, index=False)
