"""MACE training through mace-torch's own ``mace_run_train``.

This module builds command lines and runs them; it holds no training loop. Every run keeps its
checkpoints, logs and results in its own ``work_dir`` so that parallel trainings never share files
and nothing is written into the workflow's ``results/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from .files import atomic_path
from .frames import ENERGY_KEY, FORCES_KEY

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


def resolve_device(device: str) -> str:
    """``auto`` becomes ``cuda`` when a GPU is visible to torch and ``cpu`` otherwise."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


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
        "device": resolve_device(device),
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
    command = [mace_run_train_executable()]
    for key, value in args.items():
        if key in MACE_SWITCHES:
            command += [f"--{key}"] if value else []
        else:
            command += [f"--{key}", str(value)]
    return command


def run_training(command: list[str], *, threads: int, log_file: str | os.PathLike, work_dir: str | os.PathLike) -> None:
    """Run ``mace_run_train`` with ``threads`` CPU threads, its output appended to ``log_file``.

    Checkpoints in ``work_dir`` from an interrupted run of the same command are resumed
    (``--restart_latest``); those of a different command (changed settings) are removed first.
    A loss that became NaN fails the run even if mace_run_train exited normally.
    """
    work_dir = Path(work_dir)
    record = work_dir / "command.json"
    if record.exists() and json.loads(record.read_text()) != command:
        shutil.rmtree(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(command))
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    with open(log_file, "a") as log:
        log.write(" ".join(command) + "\n")
        log.flush()
        proc = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    output = Path(log_file).read_text()
    if proc.returncode != 0:
        raise TrainingError(f"mace_run_train exited with {proc.returncode}; end of {log_file}:\n{output[-3000:]}")
    check_training_log(output, log_file)


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


def provide_foundation_model(
    file: str | os.PathLike, url: str | None, sha256: str | None, destination: str | os.PathLike
) -> Path:
    """Copy the foundation model to ``destination``, fetching it from ``url`` first if ``file`` is absent
    and checking its SHA-256 when one is recorded. Runs where the network is (the login node)."""
    source = Path(file)
    if not source.exists():
        if not url:
            raise FileNotFoundError(
                f"foundation_model.file {source} does not exist and foundation_model.url is not set"
            )
        source.parent.mkdir(parents=True, exist_ok=True)
        urllib.request.urlretrieve(url, source)
    if sha256:
        with open(source, "rb") as handle:
            actual = hashlib.file_digest(handle, "sha256").hexdigest()
        if actual != sha256:
            raise ValueError(
                f"foundation_model.file {source}: sha256 {actual} differs from foundation_model.sha256 {sha256}"
            )
    with atomic_path(destination) as partial:
        shutil.copyfile(source, partial)
    return Path(destination)


def check_foundation_model(path: str | os.PathLike, atomic_numbers: Iterable[int]) -> None:
    """Fail unless ``path`` loads as a MACE model that covers every element of the data."""
    import torch

    try:
        model = torch.load(path, map_location="cpu", weights_only=False)
        known = {int(z) for z in model.atomic_numbers}
    except Exception as err:  # any unreadable or foreign file
        raise TrainingError(f"foundation model {path} is not a readable MACE model: {err}") from err
    missing = sorted(set(atomic_numbers) - known)
    if missing:
        raise TrainingError(
            f"foundation model {path} lacks elements {missing} (atomic numbers) of the data; it has {sorted(known)}"
        )


def random_mace_model(
    path: str | os.PathLike,
    *,
    channels: int = 128,
    max_L: int = 1,
    max_ell: int = 3,
    correlation: int = 3,
    r_max_A: float = 6.0,
    num_interactions: int = 2,
    atomic_numbers: Sequence[int] = (1, 8, 19),
    seed: int = 0,
) -> Path:
    """Save a ScaleShiftMACE with random weights: the defaults are MACE-MP-0 medium's architecture
    (128x0e+128x1o, max_ell 3, correlation 3, r_max 6 Å, 2 interactions). For speed measurements and
    engine comparisons, where the weights do not matter; never a result."""
    import numpy as np
    import torch
    from mace import modules

    torch.manual_seed(seed)
    from e3nn import o3  # after mace, which lets e3nn load its constants under torch's weights_only default

    hidden = o3.Irreps(" + ".join(f"{channels}x{ell}{'e' if ell % 2 == 0 else 'o'}" for ell in range(max_L + 1)))
    model = modules.ScaleShiftMACE(
        r_max=r_max_A,
        num_bessel=8,
        num_polynomial_cutoff=5,
        max_ell=max_ell,
        interaction_cls=modules.interaction_classes["RealAgnosticResidualInteractionBlock"],
        interaction_cls_first=modules.interaction_classes["RealAgnosticResidualInteractionBlock"],
        num_interactions=num_interactions,
        num_elements=len(atomic_numbers),
        hidden_irreps=hidden,
        MLP_irreps=o3.Irreps("16x0e"),
        atomic_energies=np.zeros(len(atomic_numbers)),
        avg_num_neighbors=30.0,
        atomic_numbers=list(atomic_numbers),
        correlation=correlation,
        gate=torch.nn.functional.silu,
        atomic_inter_scale=1.0,
        atomic_inter_shift=0.0,
    ).to(torch.float64)
    torch.save(model, path)
    return Path(path)
