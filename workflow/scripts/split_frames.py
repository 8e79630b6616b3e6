from mlip_transfer.files import read_frames, write_frames
from mlip_transfer.logs import log_to
from mlip_transfer.reference.splits import time_block_split

log = log_to(snakemake.log[0])
settings = snakemake.params.split
splits = time_block_split(read_frames(snakemake.input[0]), settings, gap_frames=settings["gap_frames"])
for name in snakemake.output.keys():  # no test block when the test set is its own AIMD
    log.info("%s: %d frames", name, len(splits[name]))
    write_frames(snakemake.output[name], splits[name])
