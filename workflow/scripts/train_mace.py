from pathlib import Path

from mlip_transfer.files import copy_file
from mlip_transfer.logs import log_to
from mlip_transfer.models import mace, training
from mlip_transfer.reference.e0s import read_e0s_eV

log = log_to(snakemake.log[0])
settings, launch = snakemake.params.training, snakemake.params.launch  # what it computes; how it runs
name = Path(snakemake.output[0]).stem  # the model's name, e.g. ft_c6_26
work_dir = Path(snakemake.params.work_dir)  # mace's checkpoints, logs and results, kept for resuming
if snakemake.input.get("foundation"):
    mace.verify(snakemake.input.foundation)  # mace_run_train torch.loads it: refuse a file that changed
e0s = read_e0s_eV(snakemake.input.e0s)
command = training.mace_train_command(
    name=name,
    train_file=snakemake.input.train,
    valid_file=snakemake.input.valid,
    work_dir=work_dir,
    e0s_eV=e0s,
    hyperparameters=settings["hyperparameters"],
    device=launch.device,
    default_dtype=settings["default_dtype"],
    seed=settings["seed"],
    foundation_model=snakemake.input.get("foundation"),
    replay_file=snakemake.input.get("replay"),
    enable_cueq=launch.enable_cueq,
)
training.run_training(command, threads=snakemake.threads, log_file=snakemake.log[0], work_dir=work_dir)
copy_file(training.trained_model_path(work_dir, name), snakemake.output[0])
