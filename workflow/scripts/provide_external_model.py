from mlip_transfer.logs import log_to
from mlip_transfer.models.mace import check_elements, provide_model

log = log_to(snakemake.log[0])
params, key = snakemake.params, f"external_models[name={snakemake.wildcards.model}]"  # key: for messages
model = provide_model(params.file, None, params.sha256, snakemake.output[0], key)
check_elements(model, params.atomic_numbers)
log.info("%s (%s) provided as %s", key, params.file, model)
