from mlip_transfer import plotting
from mlip_transfer.logs import log_to
from mlip_transfer.models.evaluation import Predictions

log_to(snakemake.log[0])
predictions = {c: Predictions.load(f) for c, f in zip(snakemake.params.concentrations, snakemake.input, strict=True)}
plotting.parity(predictions, snakemake.wildcards.model, snakemake.output.figure)
