from mlip_transfer.files import read_frames, write_frames
from mlip_transfer.logs import log_to
from mlip_transfer.reference.splits import prefix

log = log_to(snakemake.log[0])
frames = read_frames(snakemake.input[0])
subset = prefix(frames, snakemake.params.frames)
log.info("the first %d of %d training frames of %s", len(subset), len(frames), snakemake.input[0])
write_frames(snakemake.output[0], subset)
