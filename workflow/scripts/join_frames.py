from mlip_transfer.files import read_frames, write_frames
from mlip_transfer.logs import log_to

log = log_to(snakemake.log[0])
frames = [frame for path in snakemake.input for frame in read_frames(path)]  # chunks, in order
log.info("%d frames from %d chunks", len(frames), len(snakemake.input))
write_frames(snakemake.output[0], frames)
