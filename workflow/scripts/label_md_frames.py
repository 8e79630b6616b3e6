from mlip_transfer.dynamics.relabel import label_frames
from mlip_transfer.files import read_frames, write_frames
from mlip_transfer.logs import log_to

log = log_to(snakemake.log[0])
selected = read_frames(snakemake.input.frames)
frames = [selected[i] for i in snakemake.params.frames]  # this job's chunk of the run's selection
labelled = label_frames(
    frames,
    snakemake.params.electronic_structure,
    snakemake.params.run_dir,  # one folder per frame: a killed job keeps the frames it finished
    command=snakemake.params.launch.command,
    threads=snakemake.threads,
    xmlspec=snakemake.input.schema,
)
log.info("%d frames labelled with the reference method", len(labelled))
write_frames(snakemake.output[0], labelled)
