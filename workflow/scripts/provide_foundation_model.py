from mlip_transfer.logs import log_to
from mlip_transfer.models.mace import check_elements, provide_model

log = log_to(snakemake.log[0])
params = snakemake.params
model = provide_model(params.file, params.url, params.sha256, snakemake.output[0])
check_elements(model, params.atomic_numbers)
log.info("foundation model %s provided as %s", params.file, model)
