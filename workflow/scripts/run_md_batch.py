import dataclasses

import torch
from ase.io import read

from mlip_transfer.dynamics import ase_engine, torch_sim_engine
from mlip_transfer.logs import log_to

log = log_to(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
settings = snakemake.params.md  # one per concentration, in the order of the inputs and outputs
common = settings[0]
launch = snakemake.config["md"]  # device, kernels and guards: how it runs, not what it computes
model = torch_sim_engine.load_model(
    snakemake.input.model, launch["device"], common["default_dtype"], launch["enable_cueq"]
)
starts = [read(start, index=s["start_frame"]) for start, s in zip(snakemake.input.starts, settings, strict=True)]
run = ase_engine.RunSettings.of_job(common, launch)
size = torch_sim_engine.boxes_per_batch(len(starts), *torch_sim_engine.measured_step_memory_GB(model, starts))
for first in range(0, len(starts), size):  # every box in one batch unless the GPU's memory says otherwise
    batch = slice(first, first + size)
    n_frames = torch_sim_engine.run_nvt_batch(
        starts[batch],
        model,
        snakemake.output[batch],
        temperatures_K=[s["temperature_K"] for s in settings[batch]],
        run=dataclasses.replace(run, seed=run.seed + first),  # each batch its own thermostat noise
        velocity_seeds=[s["seed"] for s in settings[batch]],
    )
    log.info("%s frames written, one batch of %d boxes", n_frames, len(n_frames))
