from ase.io import read, write

from mlip_transfer.datasets import nested_subset
from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to

log = log_to(snakemake.log[0])
frames = read(snakemake.input[0], index=":")
subset = nested_subset(frames, snakemake.params.frames, snakemake.params.seed)
log.info("%d of %d training frames of %s", len(subset), len(frames), snakemake.input[0])
with atomic_path(snakemake.output[0]) as path:
    write(path, subset, format="extxyz")
