from ase.io import read, write

from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to
from mlip_transfer.reference.splits import equal_budget_mix

log = log_to(snakemake.log[0])
# The same number of training frames as a single-concentration fine-tune gets.
for split in ("train", "valid"):
    sources = {f: read(f, index=":") for f in snakemake.input[split]}
    budget = (
        min(len(frames) for frames in sources.values())
        if split == "valid"
        else len(read(snakemake.input.budget_train, index=":"))
    )
    mix = equal_budget_mix(sources, budget)
    log.info("%s: %d frames from %d concentrations", split, len(mix), len(sources))
    with atomic_path(snakemake.output[split]) as path:
        write(path, mix, format="extxyz")
