from ase.io import read, write

from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to
from mlip_transfer.reference.splits import time_block_split

log = log_to(snakemake.log[0])
settings = snakemake.params.split
splits = time_block_split(read(snakemake.input[0], index=":"), settings, gap_frames=settings["gap_frames"])
for name in snakemake.output.keys():  # no test block when the test set is its own AIMD
    log.info("%s: %d frames", name, len(splits[name]))
    with atomic_path(snakemake.output[name]) as path:
        write(path, splits[name], format="extxyz")
