from mlip_transfer.logs import log_to
from mlip_transfer.reference.e0s import read_e0s_eV
from mlip_transfer.reference.imported import TrajectorySource, import_trajectory
from mlip_transfer.reference.plausibility import FrameCheck

log = log_to(snakemake.log[0])
files = {kind: list(paths) for kind, paths in snakemake.input.items() if kind not in ("training", "e0s")}
source = TrajectorySource.of_job(snakemake.params.source, files)
check = FrameCheck(snakemake.params.frame_limits, read_e0s_eV(snakemake.input.e0s))
header = import_trajectory(source, snakemake.output[0], snakemake.input.get("training"), check)
log.info(
    "%d frames of %s, %.3f ps apart (%d written, %d dropped as equilibration, stride %d)",
    header.frames,
    source.first_file,
    header.interval_ps,
    header.written,
    header.skip,
    header.stride,
)
log.info("checked %s", check.summary())
