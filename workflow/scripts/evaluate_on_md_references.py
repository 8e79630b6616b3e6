import pandas as pd

from mlip_transfer.files import read_frames, write_table
from mlip_transfer.layout import group
from mlip_transfer.logs import log_to
from mlip_transfer.models import evaluation, mace
from mlip_transfer.reference.e0s import read_e0s_eV

log = log_to(snakemake.log[0])
calculator = mace.job_calculator(
    snakemake.input.model, snakemake.params.launch, snakemake.params.default_dtype, snakemake.threads
)
cp2k_e0s = read_e0s_eV(snakemake.input.e0s)
tables = []
for name, path in group(snakemake.input, "reference").items():  # each named by its test set, "<model>@<system>"
    predictions = evaluation.predict(calculator, read_frames(path), reference_e0s_eV=cp2k_e0s)
    frames = evaluation.frame_errors(predictions)
    tables.append(frames.assign(model=snakemake.wildcards.model, test_concentration=name))
    log.info("%s: force RMSE %.1f meV/Å on %d frames", name, evaluation.force_rmse(frames), len(frames))
write_table(snakemake.output.frames, pd.concat(tables, ignore_index=True))
