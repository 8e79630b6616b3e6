"""MACE training through mace-torch's own ``mace_run_train``.

This module builds command lines and runs them; it holds no training loop. Every run keeps its
checkpoints, logs and results in its own ``work_dir`` so that parallel trainings never share files
and nothing is written into the workflow's ``results/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from ..files import sha256
from ..reference.frames import ENERGY_KEY, FORCES_KEY
from . import checkpoints, mace

# mace_run_train flags that take no value (argparse store_true); other booleans are written True/False
MACE_SWITCHES = {
    "distributed",
    "pair_repulsion",
    "amsgrad",
    "swa",
    "stage_two",
    "lbfgs",
    "ema",
    "keep_checkpoints",
    "save_all_checkpoints",
    "restart_latest",
    "save_cpu",
    "dry_run",
    "wandb",
    "compute_statistics",
}


class TrainingError(RuntimeError):
    """``mace_run_train`` failed or left no model."""


def mace_run_train_executable() -> str:
    """The ``mace_run_train`` beside this interpreter (a virtual environment), else the one on PATH."""
    local = Path(sys.executable).with_name("mace_run_train")
    found = str(local) if local.exists() else shutil.which("mace_run_train")
    if not found:
        raise TrainingError("mace_run_train not found: install mace-torch in this environment")
    return found


def format_e0s(e0s_eV: Mapping[int, float]) -> str:
    """MACE's ``--E0s`` takes a Python dict literal ``{Z: energy in eV}``."""
    return "{" + ", ".join(f"{int(z)}: {float(e):.10f}" for z, e in sorted(e0s_eV.items())) + "}"


def mace_train_command(
    *,
    name: str,
    train_file: str | os.PathLike,
    valid_file: str | os.PathLike,
    work_dir: str | os.PathLike,
    e0s_eV: Mapping[int, float],
    hyperparameters: Mapping[str, object],
    device: str,
    default_dtype: str,
    seed: int,
    foundation_model: str | os.PathLike | None = None,
    replay_file: str | os.PathLike | None = None,
    enable_cueq: bool = False,
) -> list[str]:
    """Argument list for ``mace_run_train``.

    With ``foundation_model`` the run is a fine-tune (all weights start from the file; the architecture
    comes from it): naive, or multihead with ``hyperparameters["multiheads_finetuning"]`` True, when a second
    head keeps fitting ``replay_file`` (the foundation's own training data, a local file); without, the
    ``hyperparameters`` also define the architecture.
    Booleans become bare flags for mace's switches (``MACE_SWITCHES``) and ``True``/``False`` otherwise.
    """
    work_dir = Path(work_dir)
    args = {
        "name": name,
        "train_file": str(train_file),
        "valid_file": str(valid_file),
        "work_dir": str(work_dir),
        "log_dir": str(work_dir / "logs"),
        "model_dir": str(work_dir),
        "checkpoints_dir": str(work_dir / "checkpoints"),
        "results_dir": str(work_dir / "results"),
        "E0s": format_e0s(e0s_eV),
        "energy_key": ENERGY_KEY,
        "forces_key": FORCES_KEY,
        "device": mace.resolve_device(device),
        "default_dtype": default_dtype,
        "seed": seed,
        **hyperparameters,
    }
    if foundation_model is not None:
        args["foundation_model"] = str(foundation_model)
        args["multiheads_finetuning"] = bool(args.get("multiheads_finetuning", False))
        if args["multiheads_finetuning"]:
            if replay_file is None:
                raise TrainingError(
                    "multihead fine-tuning needs the foundation model's training data to replay: set "
                    "training.replay_file to a local extended-XYZ file (compute nodes cannot download it)"
                )
            args["pt_train_file"] = str(replay_file)
    if enable_cueq:
        args["enable_cueq"] = True
    args["restart_latest"] = True  # a killed run continues from its last checkpoint in work_dir
    return [mace_run_train_executable(), *command_line_arguments(args)]


def command_line_arguments(args: Mapping[str, object]) -> list[str]:
    """``--key value`` for each argument; mace's switches (``MACE_SWITCHES``) as bare flags when true."""
    command: list[str] = []
    for key, value in args.items():
        if key in MACE_SWITCHES:
            command += [f"--{key}"] if value else []
        else:
            command += [f"--{key}", str(value)]
    return command


def run_training(command: list[str], *, threads: int, log_file: str | os.PathLike, work_dir: str | os.PathLike) -> None:
    """Run ``mace_run_train`` with ``threads`` CPU threads, its output appended to ``log_file``.

    Checkpoints in ``work_dir`` from an interrupted run of the same command on the same files are resumed
    (``--restart_latest``) from the newest one that loads (a cut one is set aside and said in the log);
    those of a different command (changed settings) or of other contents of its data and starting model
    files (a rerun after its inputs changed, under the same paths) are removed first. Checkpoints are written whole
    (:mod:`~mlip_transfer.models.checkpoints`), so a kill at any moment leaves one to resume from.
    A loss that became NaN fails the run even if mace_run_train exited normally.
    """
    work_dir = Path(work_dir)
    prepare_work_dir(work_dir, command)
    set_aside = checkpoints.set_aside_unreadable(work_dir / "checkpoints")
    # mace_run_train, with checkpoints written whole (mlip_transfer.models.checkpoints)
    launched = [sys.executable, "-m", checkpoints.__name__, *command[1:]]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    with open(log_file, "a") as log:
        for path in set_aside:
            log.write(f"a checkpoint that does not load was set aside: {path}\n")
        log.write(" ".join(launched) + "\n")
        log.flush()
        proc = subprocess.run(launched, stdout=log, stderr=subprocess.STDOUT, env=env)
    output = Path(log_file).read_text()
    if proc.returncode != 0:
        raise TrainingError(f"mace_run_train exited with {proc.returncode}; end of {log_file}:\n{output[-3000:]}")
    check_training_log(output, log_file)
    (work_dir / FINISHED).touch()


FINISHED = "finished"  # in a work dir whose run ended: a rerun of its job starts afresh


def prepare_work_dir(work_dir: Path, command: list[str]) -> None:
    """Keep ``work_dir`` for resuming only if an unfinished run of the same command on the same file contents
    left it (a finished run's rerun, e.g. after its inputs were rewritten unchanged, would resume from a
    mid-run checkpoint and give another model); record both."""
    record, inputs = work_dir / "command.json", work_dir / "inputs_sha256.json"
    digests = input_digests(command)
    if record.exists() and (
        (work_dir / FINISHED).exists()
        or json.loads(record.read_text()) != command
        or not inputs.exists()
        or json.loads(inputs.read_text()) != digests
    ):
        shutil.rmtree(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(command))
    inputs.write_text(json.dumps(digests))


INPUT_FILE_FLAGS = ("--train_file", "--valid_file", "--foundation_model", "--pt_train_file")


def input_digests(command: list[str]) -> dict[str, str]:
    """SHA-256 of each data and starting-model file a ``mace_run_train`` command reads."""
    files = [command[i + 1] for i, arg in enumerate(command[:-1]) if arg in INPUT_FILE_FLAGS]
    return {f: sha256(f) for f in files if Path(f).is_file()}


_NAN_EPOCH = re.compile(r"Epoch (\d+):[^\n]*loss=nan", re.IGNORECASE)


def check_training_log(output: str, log_file: str | os.PathLike = "mace_run_train output") -> None:
    """Fail if the training loss became NaN (a diverged model is not a result)."""
    match = _NAN_EPOCH.search(output)
    if match:
        raise TrainingError(
            f"training diverged: the loss became NaN at epoch {match.group(1)} ({log_file}); "
            "lower the learning rate (lr) or check the training data"
        )


def trained_model_path(work_dir: str | os.PathLike, name: str) -> Path:
    """The model file ``mace_run_train`` leaves in ``work_dir`` (float64 weights, non-compiled)."""
    path = Path(work_dir) / f"{name}.model"
    if not path.exists():
        raise TrainingError(f"mace_run_train finished but wrote no {path}")
    return path
