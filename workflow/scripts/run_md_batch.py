import dataclasses

import torch
from ase.io import read

from mlip_transfer.dynamics import ase_engine, torch_sim_engine
from mlip_transfer.dynamics.catalogue import MDSettings
from mlip_transfer.layout import group
from mlip_transfer.logs import log_to

log = log_to(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
launch = snakemake.params.launch
settings = {system: MDSettings.from_params(params) for system, params in snakemake.params.md.items()}
systems = list(settings)
starts_of = group(snakemake.input, "start")
common = settings[systems[0]]
model = torch_sim_engine.load_model(
    snakemake.input.model, launch.device.device, common.default_dtype, launch.device.enable_cueq
)
starts = [read(starts_of[s], index=settings[s].start_frame) for s in systems]
run = ase_engine.RunSettings.of_job(common, launch)
size = torch_sim_engine.boxes_per_batch(len(starts), *torch_sim_engine.measured_step_memory_GB(model, starts))
for first in range(0, len(starts), size):  # every box in one batch unless the GPU's memory says otherwise
    batch = systems[first : first + size]
    n_frames = torch_sim_engine.run_nvt_batch(
        starts[first : first + size],
        model,
        [snakemake.output[s] for s in batch],
        temperatures_K=[settings[s].temperature_K for s in batch],
        run=dataclasses.replace(run, seed=run.seed + first),  # each batch its own thermostat noise
        velocity_seeds=[settings[s].seed for s in batch],
    )
    log.info("%s frames written, one batch of %d boxes", n_frames, len(n_frames))
