from mlip_transfer.files import read_frames, write_frames
from mlip_transfer.logs import log_to
from mlip_transfer.repair import selection

log = log_to(snakemake.log[0])
new = read_frames(snakemake.input.new)
replay = snakemake.input.get("replay")  # none where the repair replays nothing
replayed = selection.replay(read_frames(replay), snakemake.params.replay_frames) if replay else []
log.info("%d new frames and %d of the base's own replayed", len(new), len(replayed))
write_frames(snakemake.output[0], [*new, *replayed])
