from ase.io import read, write

from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to
from mlip_transfer.reference.splits import prefix

log = log_to(snakemake.log[0])
frames = read(snakemake.input[0], index=":")
subset = prefix(frames, snakemake.params.frames)
log.info("the first %d of %d training frames of %s", len(subset), len(frames), snakemake.input[0])
with atomic_path(snakemake.output[0]) as path:
    write(path, subset, format="extxyz")
