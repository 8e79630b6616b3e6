import torch
from ase.io import read

from mlip_transfer.dynamics import ase_engine
from mlip_transfer.logs import log_to
from mlip_transfer.models.mace import load_calculator

log = log_to(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
settings = snakemake.params.md
launch = snakemake.config["md"]  # device, kernels and guards: how it runs, not what it computes
start = read(snakemake.input.start, index=settings["start_frame"])  # the replica's own AIMD frame
calculator = load_calculator(snakemake.input.model, launch["device"], settings["default_dtype"], launch["enable_cueq"])
n_frames = ase_engine.run_nvt(
    start,
    calculator,
    snakemake.output[0],
    temperature_K=settings["temperature_K"],
    run=ase_engine.RunSettings.of_job(settings, launch),
)
log.info("%d frames written", n_frames)
