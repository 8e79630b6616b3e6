from ase.io import read, write

from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to

log = log_to(snakemake.log[0])
frames = [frame for path in snakemake.input for frame in read(path, index=":")]  # chunks, in order
log.info("%d frames from %d chunks", len(frames), len(snakemake.input))
with atomic_path(snakemake.output[0]) as path:
    write(path, frames, format="extxyz")
