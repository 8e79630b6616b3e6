from mlip_transfer.files import read_frames, write_frames
from mlip_transfer.logs import log_to
from mlip_transfer.reference.splits import equal_budget_mix

log = log_to(snakemake.log[0])
# The same number of training frames as a single-concentration fine-tune gets.
for split in ("train", "valid"):
    sources = {f: read_frames(f) for f in snakemake.input[split]}
    budget = (
        min(len(frames) for frames in sources.values())
        if split == "valid"
        else len(read_frames(snakemake.input.budget_train))
    )
    mix = equal_budget_mix(sources, budget)
    log.info("%s: %d frames from %d concentrations", split, len(mix), len(sources))
    write_frames(snakemake.output[split], mix)
