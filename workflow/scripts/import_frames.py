from mlip_transfer.logs import log_to
from mlip_transfer.reference.imported import TrajectorySource, import_trajectory

log = log_to(snakemake.log[0])
files = {kind: list(paths) for kind, paths in snakemake.input.items() if kind != "training"}
source = TrajectorySource.of_job(snakemake.params.source, files)
header = import_trajectory(source, snakemake.output[0], snakemake.input.get("training"))
log.info(
    "%d frames of %s, %.3f ps apart (%d written, %d dropped as equilibration, stride %d)",
    header.frames,
    source.first_file,
    header.interval_ps,
    header.written,
    header.skip,
    header.stride,
)
