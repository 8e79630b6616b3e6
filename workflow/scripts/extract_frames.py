from ase.io import read

from mlip_transfer.files import write_frames
from mlip_transfer.logs import log_to
from mlip_transfer.reference.e0s import read_e0s_eV
from mlip_transfer.reference.frames import cp2k_frames
from mlip_transfer.reference.plausibility import FrameCheck

log = log_to(snakemake.log[0])
cell = read(snakemake.input.box).cell.lengths()
check = FrameCheck(snakemake.params.frame_limits, read_e0s_eV(snakemake.input.e0s))
frames = cp2k_frames(
    snakemake.input.positions,
    snakemake.input.forces,
    snakemake.input.energies,
    cell,
    skip_steps=snakemake.params.skip_steps,
    check=check,
)
log.info("%d frames after dropping the first %d MD steps", len(frames), snakemake.params.skip_steps)
log.info("checked %s", check.summary())
write_frames(snakemake.output[0], frames)
