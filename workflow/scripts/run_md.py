import torch
from ase.io import read

from mlip_transfer import md
from mlip_transfer.evaluation import load_mace_calculator
from mlip_transfer.logs import log_to

log = log_to(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
settings = snakemake.params.md
start = read(snakemake.input.start, index=-1)
calculator = load_mace_calculator(
    snakemake.input.model, settings["device"], snakemake.params.dtype, settings.get("enable_cueq", False)
)
n_frames = md.run_nvt(
    start,
    calculator,
    snakemake.output[0],
    temperature_K=snakemake.params.temperature_K,
    timestep_fs=settings["timestep_fs"],
    steps=settings["steps"],
    write_interval=settings["write_interval"],
    thermostat=settings["thermostat"],
    seed=snakemake.params.seed,
    limits=md.SanityLimits(settings.get("max_temperature_K", 2000.0), settings.get("min_distance_A", 0.6)),
)
log.info("%d frames written", n_frames)
