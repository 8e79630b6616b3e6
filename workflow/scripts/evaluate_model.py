import pandas as pd
import torch
from ase.io import read

from mlip_transfer import evaluation
from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to

log = log_to(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
launch = snakemake.config["evaluation"]  # device and kernels: how it runs, not what it computes
calculator = evaluation.load_mace_calculator(
    snakemake.input.model, launch["device"], snakemake.params.default_dtype, launch["enable_cueq"]
)
predictions = evaluation.predict(calculator, read(snakemake.input.test, index=":"))
with atomic_path(snakemake.output.predictions) as path:
    predictions.save(path)
errors = {
    "model": snakemake.wildcards.model,
    "test_concentration": snakemake.wildcards.system,
    **evaluation.error_metrics(predictions),
}
log.info("%s", errors)
with atomic_path(snakemake.output.errors) as path:
    pd.DataFrame([errors]).to_csv(path, index=False)
