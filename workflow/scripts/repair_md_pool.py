from mlip_transfer.dynamics.relabel import select_frames
from mlip_transfer.files import write_frames
from mlip_transfer.logs import log_to

log = log_to(snakemake.log[0])
frames = select_frames(snakemake.input[0], snakemake.params.frames, snakemake.params.skip_frames)
log.info("%d MD frames of %s in the pool", len(frames), snakemake.input[0])
write_frames(snakemake.output[0], frames)
