from mlip_transfer.logs import log_to
from mlip_transfer.models.mace import check_elements, provide_model

log = log_to(snakemake.log[0])
params = snakemake.params  # params.key: where the config gives it, for messages
model = provide_model(params.file, None, params.sha256, snakemake.output[0], params.key)
check_elements(model, params.atomic_numbers)
log.info("%s (%s) provided as %s", params.key, params.file, model)
