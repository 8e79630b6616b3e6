import pandas as pd
import torch
from ase.io import read

from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to
from mlip_transfer.models import evaluation, mace
from mlip_transfer.reference.e0s import read_e0s_eV

log = log_to(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
launch = snakemake.config["evaluation"]  # device and kernels: how it runs, not what it computes
calculator = mace.load_calculator(
    snakemake.input.model, launch["device"], snakemake.params.default_dtype, launch["enable_cueq"]
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
