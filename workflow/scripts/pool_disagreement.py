from mlip_transfer.files import read_frames, write_table
from mlip_transfer.layout import group
from mlip_transfer.logs import log_to
from mlip_transfer.models import mace
from mlip_transfer.repair import selection

log = log_to(snakemake.log[0])
params = snakemake.params
frames = read_frames(snakemake.input.pool)
members = group(snakemake.input, "member")
calculators = [
    mace.job_calculator(path, params.launch, params.default_dtype, snakemake.threads) for path in members.values()
]
table = selection.pool_table(frames, selection.committee_disagreement_meV_per_A(calculators, frames))
log.info("max_devi_f among %s on %d frames:\n%s", list(members), len(frames), table.describe().to_string())
write_table(snakemake.output[0], table)
