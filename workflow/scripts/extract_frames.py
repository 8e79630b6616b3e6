from ase.io import read

from mlip_transfer.files import write_frames
from mlip_transfer.logs import log_to
from mlip_transfer.reference.frames import cp2k_frames

log = log_to(snakemake.log[0])
cell = read(snakemake.input.box).cell.lengths()
frames = cp2k_frames(
    snakemake.input.positions,
    snakemake.input.forces,
    snakemake.input.energies,
    cell,
    skip_steps=snakemake.params.skip_steps,
)
log.info("%d frames after dropping the first %d MD steps", len(frames), snakemake.params.skip_steps)
write_frames(snakemake.output[0], frames)
