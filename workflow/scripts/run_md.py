from ase.io import read

from mlip_transfer.dynamics import ase_engine
from mlip_transfer.dynamics.catalogue import MDSettings
from mlip_transfer.logs import log_to
from mlip_transfer.models.mace import job_calculator

log = log_to(snakemake.log[0])
settings, launch = MDSettings.from_params(snakemake.params.md), snakemake.params.launch
start = read(snakemake.input.start, index=settings.start_frame)  # the replica's own AIMD frame
calculator = job_calculator(snakemake.input.model, launch.device, settings.default_dtype, snakemake.threads)
n_frames = ase_engine.run_nvt(
    start,
    calculator,
    snakemake.output[0],
    temperature_K=settings.temperature_K,
    run=ase_engine.RunSettings.of_job(settings, launch),
)
log.info("%d frames written", n_frames)
