from ase.io import read, write

from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to
from mlip_transfer.reference.splits import bootstrap_resample

log = log_to(snakemake.log[0])
frames = read(snakemake.input[0], index=":")
resample = bootstrap_resample(frames, snakemake.params.seed)
log.info("%d frames drawn with replacement (seed %d) from %s", len(resample), snakemake.params.seed, snakemake.input[0])
with atomic_path(snakemake.output[0]) as path:
    write(path, resample, format="extxyz")
