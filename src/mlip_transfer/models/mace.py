"""MACE model files: the device they run on, loading them (an ASE calculator, or the module for torch-sim),
and the guard on what is loaded.

A model file is pickled code: ``torch.load(weights_only=False)`` runs whatever it holds. The foundation
model's SHA-256 is therefore recorded beside the copy every job reads (``<model>.sha256``) when it is
first provided, or taken from ``foundation_model.sha256``; a file that later differs from the record is
refused with an error naming both hashes, by the provider and by every loader here.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..files import copy_file, sha256

if TYPE_CHECKING:
    from ..launch import Device


class ModelFileError(ValueError):
    """A model file that is not what it should be."""


class DeviceError(RuntimeError):
    """A device a job was given or asked for, which its torch cannot use."""


def resolve_device(device: str) -> str:
    """``auto`` becomes ``cuda`` when a GPU is visible to torch and ``cpu`` otherwise; but a job that was given
    a GPU (``CUDA_VISIBLE_DEVICES`` names one, as SLURM sets it) whose torch cannot use it (a CPU build) fails,
    rather than running for hours on the CPU. ``cpu`` and ``cuda`` are taken as they are."""
    if device != "auto":
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    given = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    if given not in ("", "-1", "NoDevFiles"):
        raise DeviceError(
            f"device {device!r} with CUDA_VISIBLE_DEVICES={given!r}, but this torch {torch.__version__} cannot use "
            "a GPU (a CPU build, or no driver): install a CUDA build of torch (see the README, Running on a "
            "cluster) or set the device to cpu"
        )
    return "cpu"


def record_file(model: str | os.PathLike) -> Path:
    """Where a model's SHA-256 is recorded: beside it."""
    return Path(f"{model}.sha256")


def verify(path: str | os.PathLike) -> None:
    """Refuse a model file that differs from the SHA-256 recorded beside it (none recorded: nothing to check)."""
    record = record_file(path)
    if record.exists():
        expected, actual = record.read_text().strip(), sha256(path)
        if actual != expected:
            raise ModelFileError(
                f"{path}: sha256 {actual} differs from the {expected} recorded in {record} when it was provided; "
                "a changed model file is not loaded (delete the record and the model to provide it anew)"
            )


def provide_model(
    file: str | os.PathLike,
    url: str | None,
    expected_sha256: str | None,
    destination: str | os.PathLike,
    key: str = "foundation_model",
) -> Path:
    """Copy a given model file (the foundation model, or an external model) to ``destination`` with its
    SHA-256 recorded beside it, fetching it from ``url`` first if ``file`` is absent. Its hash must equal
    ``expected_sha256`` when one is configured, and the one recorded by an earlier provision otherwise.
    ``key``: where the config gives it (for messages). Runs where the network is (the login node)."""
    source = Path(file)
    if not source.exists():
        if not url:
            raise FileNotFoundError(f"{key}.file {source} does not exist and no {key}.url is set")
        source.parent.mkdir(parents=True, exist_ok=True)
        urllib.request.urlretrieve(url, source)
    actual, record = sha256(source), record_file(destination)
    if expected_sha256 and actual != expected_sha256:
        raise ModelFileError(f"{key}.file {source}: sha256 {actual} differs from {key}.sha256 {expected_sha256}")
    if not expected_sha256 and record.exists() and record.read_text().strip() != actual:
        raise ModelFileError(
            f"{key}.file {source}: sha256 {actual} differs from the {record.read_text().strip()} recorded "
            f"in {record} when this study's model was first provided; to change the model on purpose, set "
            f"{key}.sha256 to the new hash"
        )
    copy_file(source, destination)
    record.write_text(actual + "\n")
    return Path(destination)


def load_module(
    path: str | os.PathLike, device: str = "cpu", default_dtype: str | None = None, *, recorded: bool = True
):
    """The torch module of a MACE model file (after :func:`verify` where it is one of the study's
    ``recorded`` copies), on ``device``, optionally cast."""
    import mace  # noqa: F401  first: lets e3nn load its constants under torch's weights_only default
    import torch

    if recorded:
        verify(path)
    module = torch.load(path, map_location=resolve_device(device), weights_only=False)
    return module.to(getattr(torch, default_dtype)) if default_dtype else module


def check_elements(path: str | os.PathLike, atomic_numbers: Iterable[int], *, recorded: bool = True) -> None:
    """Fail unless ``path`` loads as a MACE model that covers every element of the data (``recorded``: a copy
    with its SHA-256 recorded beside it, checked first; not a file from elsewhere)."""
    try:
        known = {int(z) for z in load_module(path, recorded=recorded).atomic_numbers}
    except ModelFileError:
        raise
    except Exception as err:  # any unreadable or foreign file
        raise ModelFileError(f"{path} is not a readable MACE model: {err}") from err
    missing = sorted(set(atomic_numbers) - known)
    if missing:
        raise ModelFileError(f"{path} lacks elements {missing} (atomic numbers) of the data; it has {sorted(known)}")


def load_calculator(
    model_path: str | os.PathLike, device: str = "auto", default_dtype: str = "float64", enable_cueq: bool = False
):
    """ASE calculator for a MACE model file (after :func:`verify`) on the requested device (``auto``: CUDA
    when present), optionally with cuEquivariance kernels."""
    from mace.calculators import MACECalculator

    verify(model_path)
    return MACECalculator(
        model_paths=str(model_path),
        device=resolve_device(device),
        default_dtype=default_dtype,
        enable_cueq=enable_cueq,
    )


def job_calculator(model_path: str | os.PathLike, device: Device, default_dtype: str, threads: int):
    """The calculator of a job that evaluates a model: ``threads`` CPU threads for torch, on the device and
    with the kernels its launch record asks for."""
    import torch

    torch.set_num_threads(threads)
    return load_calculator(model_path, device.device, default_dtype, device.enable_cueq)


def random_model(
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
    engine comparisons (benchmarks, tests), where the weights do not matter; never a result."""
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
