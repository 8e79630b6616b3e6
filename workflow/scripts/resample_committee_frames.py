from mlip_transfer.files import read_frames, write_frames
from mlip_transfer.logs import log_to
from mlip_transfer.reference.splits import bootstrap_resample

log = log_to(snakemake.log[0])
frames = read_frames(snakemake.input[0])
resample = bootstrap_resample(frames, snakemake.params.seed)
log.info("%d frames drawn with replacement (seed %d) from %s", len(resample), snakemake.params.seed, snakemake.input[0])
write_frames(snakemake.output[0], resample)
