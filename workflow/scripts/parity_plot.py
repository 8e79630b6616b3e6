from mlip_transfer import plotting
from mlip_transfer.logs import log_to
from mlip_transfer.models.evaluation import Predictions

log_to(snakemake.log[0])
predictions = {test_set: Predictions.load(snakemake.input[test_set]) for test_set in snakemake.input.keys()}
plotting.parity(predictions, snakemake.wildcards.model, snakemake.output.figure)
