"""What a study cost to compute, from the ``benchmark:`` files Snakemake writes for every job.

A benchmark file is tab-separated with the job's wall time in seconds in column ``s`` (one row per
repetition; the last is the run that produced the output). Costs are in hours: AIMD in core-hours
(wall time × MPI ranks × OpenMP threads per rank), training in wall-clock hours of its jobs, on whatever
device they ran (GPU-hours on a GPU node), and in core-hours of the CPU threads they held.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import pandas as pd

from .evaluation import mean_with_error
from .study import FINE_TUNE_PREFIX, FRAMES_SEPARATOR, without_seed

SECONDS_PER_HOUR = 3600.0
COST_COLUMNS = ["model", "kind", "training_concentrations", "mean_all_meV_per_A", "mean_all_se_meV_per_A",
                "aimd_core_h", "training_wall_h", "training_core_h"]  # fmt: skip


def wall_hours(benchmark_files: Sequence[str | os.PathLike]) -> float:
    """Summed wall time (h) of the jobs behind ``benchmark_files`` (each file's last row)."""
    total = 0.0
    for path in benchmark_files:
        table = pd.read_csv(path, sep="\t")
        if "s" not in table or table.empty:
            raise ValueError(f"{path}: not a Snakemake benchmark file (no wall time column 's')")
        total += float(table["s"].iloc[-1])
    return total / SECONDS_PER_HOUR


def training_wall_hours(benchmark_files: Mapping[str, str | os.PathLike]) -> dict[str, float]:
    """Wall hours of each model's fine-tunes from ``{trained model name: its benchmark file}``: the seeds of a
    model ("<model>.seed<n>") add up to the model; frame budgets ("<model>.frames<n>") keep their own name."""
    hours: dict[str, float] = {}
    for name, path in benchmark_files.items():
        model = without_seed(name)
        hours[model] = hours.get(model, 0.0) + wall_hours([path])
    return hours


def aimd_core_hours(
    segments: Mapping[str, Sequence[str | os.PathLike]], *, mpi_ranks: int, threads_per_rank: int
) -> pd.DataFrame:
    """Per concentration: wall hours of its AIMD segments and core-hours = wall × ranks × threads."""
    rows = []
    for system, files in segments.items():
        wall = wall_hours(files)
        rows.append(
            {
                "system": system,
                "aimd_segments": len(files),
                "aimd_wall_h": wall,
                "mpi_ranks": mpi_ranks,
                "threads_per_rank": threads_per_rank,
                "aimd_core_h": wall * mpi_ranks * threads_per_rank,
            }
        )
    return pd.DataFrame(rows)


def model_costs(
    summary: pd.DataFrame,
    aimd: pd.DataFrame,
    training_wall_h: Mapping[str, float],
    *,
    training_threads: int,
) -> pd.DataFrame:
    """Every model's cost beside its accuracy: the AIMD core-hours of its training concentrations, the
    wall and core hours of its fine-tunes (all seeds), and its mean force RMSE over all test sets (meV/Å,
    with its uncertainty) from the transfer summary. The foundation model's own cost is not counted
    (shared by every fine-tune); models without fine-tunes (the foundation) get zero training cost."""
    core_h = aimd.set_index("system")["aimd_core_h"]
    table = summary[COST_COLUMNS[:5]].copy()
    table["aimd_core_h"] = [
        float(core_h[labels.split()].sum()) if labels else 0.0 for labels in table["training_concentrations"].fillna("")
    ]
    table["training_wall_h"] = table["model"].map(lambda m: training_wall_h.get(m, 0.0))
    table["training_core_h"] = table["training_wall_h"] * training_threads
    return table


def frame_budget_costs(
    curves: pd.DataFrame, aimd: pd.DataFrame, training_wall_h: Mapping[str, float], *, training_threads: int
) -> pd.DataFrame:
    """The cost rows of the learning-curve fine-tunes (kind ``budget``): the AIMD core-hours of their
    concentration scaled by the share of its training frames they use (a shorter AIMD at the same frame
    stride would have given them), the hours of their own fine-tune, and their mean force RMSE over all
    test sets. ``curves``: :func:`mlip_transfer.evaluation.learning_curves`, whose largest
    ``training_frames`` per model is the fine-tune on all of them."""
    core_h = aimd.set_index("system")["aimd_core_h"]
    rows = []
    for (model, frames), points in curves.groupby(["model", "training_frames"]):
        all_frames = curves.loc[curves["model"] == model, "training_frames"].max()
        if frames == all_frames:
            continue  # the study's own fine-tune, already a row of model_costs
        label = model.removeprefix(FINE_TUNE_PREFIX)
        name = f"{model}{FRAMES_SEPARATOR}{frames}"
        rows.append(
            {
                "model": name,
                "kind": "budget",
                "training_concentrations": label,
                **mean_with_error("all", points),
                "aimd_core_h": float(core_h[label]) * frames / all_frames,
                "training_wall_h": training_wall_h.get(name, 0.0),
            }
        )
    table = pd.DataFrame(rows, columns=[*COST_COLUMNS[:-1]])
    table["training_core_h"] = table["training_wall_h"] * training_threads
    return table
