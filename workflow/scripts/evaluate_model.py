import pandas as pd
from ase.io import read

from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to
from mlip_transfer.models import evaluation, mace
from mlip_transfer.reference.e0s import read_e0s_eV

log = log_to(snakemake.log[0])
calculator = mace.job_calculator(  # device and kernels from the config: how it runs, not what it computes
    snakemake.input.model, snakemake.config["evaluation"], snakemake.params.default_dtype, snakemake.threads
)
cp2k_e0s = read_e0s_eV(snakemake.input.e0s)
predictions = evaluation.predict(calculator, read(snakemake.input.test, index=":"), reference_e0s_eV=cp2k_e0s)
names = {"model": snakemake.wildcards.model, "test_concentration": snakemake.wildcards.test_set}
with atomic_path(snakemake.output.predictions) as path:
    predictions.save(path)
with atomic_path(snakemake.output.frames) as path:
    evaluation.frame_errors(predictions).assign(**names).to_csv(path, index=False)
errors = {**names, **evaluation.error_metrics(predictions)}
log.info("%s", errors)
with atomic_path(snakemake.output.errors) as path:
    pd.DataFrame([errors]).to_csv(path, index=False)
