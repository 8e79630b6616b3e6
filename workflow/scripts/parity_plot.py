from mlip_transfer import plotting
from mlip_transfer.layout import group
from mlip_transfer.logs import log_to
from mlip_transfer.models.evaluation import Predictions

log_to(snakemake.log[0])
predictions = {test_set: Predictions.load(path) for test_set, path in group(snakemake.input, "predictions").items()}
plotting.parity(predictions, snakemake.wildcards.model, snakemake.output.figure)
