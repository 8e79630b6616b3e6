import pandas as pd

from mlip_transfer.files import read_frames, write_table
from mlip_transfer.logs import log_to
from mlip_transfer.models import evaluation, mace
from mlip_transfer.reference.e0s import read_e0s_eV

log = log_to(snakemake.log[0])
calculator = mace.job_calculator(
    snakemake.input.model, snakemake.params.launch, snakemake.params.default_dtype, snakemake.threads
)
cp2k_e0s = read_e0s_eV(snakemake.input.e0s)
predictions = evaluation.predict(calculator, read_frames(snakemake.input.test), reference_e0s_eV=cp2k_e0s)
names = {"model": snakemake.wildcards.model, "test_concentration": snakemake.wildcards.test_set}
predictions.save(snakemake.output.predictions)
write_table(snakemake.output.frames, evaluation.frame_errors(predictions).assign(**names))
errors = {**names, **evaluation.error_metrics(predictions)}
log.info("%s", errors)
write_table(snakemake.output.errors, pd.DataFrame([errors]))
