from mlip_transfer.files import read_frames, write_frames, write_table
from mlip_transfer.logs import log_to
from mlip_transfer.repair import selection
from mlip_transfer.repair.catalogue import FrameSelection

log = log_to(snakemake.log[0])
frames = read_frames(snakemake.input.pool)
pool = selection.load_pool(frames, snakemake.input.get("disagreement"))  # committee selections only
settings = FrameSelection.from_params(snakemake.params.selection)
chosen, rows = selection.select(frames, pool, settings, list(snakemake.input.tests), snakemake.input.pool)
log.info("%s: pool frames %s of %s", settings, rows["frame"].tolist(), snakemake.input.pool)
write_frames(snakemake.output.frames, chosen)
write_table(snakemake.output.table, rows)
