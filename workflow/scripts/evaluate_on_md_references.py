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
tables = []
for name, path in zip(snakemake.params.sets, snakemake.input.references, strict=True):
    predictions = evaluation.predict(calculator, read(path, index=":"), reference_e0s_eV=cp2k_e0s)
    frames = evaluation.frame_errors(predictions)
    tables.append(frames.assign(model=snakemake.wildcards.model, test_concentration=name))
    log.info("%s: force RMSE %.1f meV/Å on %d frames", name, evaluation.force_rmse(frames), len(frames))
with atomic_path(snakemake.output.frames) as path:
    pd.concat(tables, ignore_index=True).to_csv(path, index=False)
