import json
import shutil
from pathlib import Path

from mlip_transfer import training
from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to

log = log_to(snakemake.log[0])
model = Path(snakemake.output[0])
name = model.stem
work_dir = model.with_name(f"{name}_mace_run_train")  # checkpoints, logs and mace's own results/
e0s = {int(z): e for z, e in json.loads(Path(snakemake.input.e0s).read_text()).items()}
command = training.mace_train_command(
    name=name,
    train_file=snakemake.input.train,
    valid_file=snakemake.input.valid,
    work_dir=work_dir,
    e0s_eV=e0s,
    hyperparameters=snakemake.params.hyperparameters,
    device=snakemake.params.training["device"],
    default_dtype=snakemake.params.training["default_dtype"],
    seed=snakemake.params.seed,
    foundation_model=snakemake.input.get("foundation"),
    enable_cueq=snakemake.params.training.get("enable_cueq", False),
)
training.run_training(command, threads=snakemake.threads, log_file=snakemake.log[0], work_dir=work_dir)
with atomic_path(model) as path:
    shutil.copyfile(training.trained_model_path(work_dir, name), path)
