"""What a study cost to compute, from the ``benchmark:`` files Snakemake writes for every job.

A benchmark file is tab-separated with the job's wall time in seconds in column ``s`` (one row per
repetition; the last is the run that produced the output). Costs are in hours: CP2K in core-hours (wall
time × MPI ranks × OpenMP threads per rank), training in wall-clock hours of its jobs, on whatever device
they ran (GPU-hours on a GPU node), and in core-hours of the CPU threads they held.

One rule charges every model for its training data: for each concentration it takes frames from, the
fixed overhead of that AIMD (the box relaxation and the equilibration steps, in full) plus the production
part pro rata of the frames it uses (train + valid) among the frames that AIMD gave. A learning-curve
point uses the first frames of a training block, a multi-concentration model the first share of each: what
a correspondingly shorter AIMD would have given. The full AIMD cost of its concentrations is a column of
its own, and the independent test AIMDs are the study's test data, charged to no model. An imported AIMD
was paid for elsewhere: a model trained on one has no AIMD cost here (NaN), as an external model has none.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..names import run_parts, without_seed

SECONDS_PER_HOUR = 3600.0
SUMMARY_COLUMNS = ["model", "kind", "training_concentrations", "mean_all_meV_per_A", "mean_all_se_meV_per_A"]
AIMD_COLUMNS = [
    "run", "concentration", "kind", "mpi_ranks", "threads_per_rank", "relax_core_h", "aimd_core_h",
    "overhead_core_h", "production_core_h", "frames", "core_h_per_frame", "total_core_h",
]  # fmt: skip


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


def aimd_benchmarks(
    relaxations: Mapping[str, str | os.PathLike], segments: Mapping[str, str | os.PathLike]
) -> dict[str, dict]:
    """``{run: {"relax": file, "aimd": [segment files in order]}}`` from the relaxation's benchmark file of
    each AIMD run and every segment's, named by run id "<run>/<segment>"."""
    benchmarks = {run: {"relax": path, "aimd": {}} for run, path in relaxations.items()}
    for segment_id, path in segments.items():
        run, segment = run_parts(segment_id)
        benchmarks[run]["aimd"][int(segment)] = path
    return {
        run: {**files, "aimd": [files["aimd"][k] for k in sorted(files["aimd"])]} for run, files in benchmarks.items()
    }


def aimd_costs(
    benchmarks: Mapping[str, Mapping[str, object]],
    systems: Mapping[str, Mapping[str, object]],
    *,
    mpi_ranks: int,
    threads_per_rank: int,
) -> pd.DataFrame:
    """Per AIMD run (``benchmarks``: {run: {"relax": file, "aimd": [segment files]}}; ``systems``:
    the reference catalogue's ``cost_systems``): relaxation and AIMD core-hours, the overhead (relaxation +
    equilibration, by its share of the steps), the production part and its cost per frame."""
    cores = mpi_ranks * threads_per_rank
    rows = []
    for name, files in benchmarks.items():
        system = systems[name]
        relax, aimd = wall_hours([files["relax"]]) * cores, wall_hours(files["aimd"]) * cores
        production = aimd * (1.0 - system["equilibration_fraction"])
        rows.append(
            {
                "run": name,
                "concentration": system["concentration"],
                "kind": system["kind"],
                "mpi_ranks": mpi_ranks,
                "threads_per_rank": threads_per_rank,
                "relax_core_h": relax,
                "aimd_core_h": aimd,
                "overhead_core_h": relax + aimd - production,
                "production_core_h": production,
                "frames": system["frames"],
                "core_h_per_frame": production / system["frames"],
                "total_core_h": relax + aimd,
            }
        )
    return pd.DataFrame(rows, columns=AIMD_COLUMNS)


def training_runs(aimd: pd.DataFrame) -> pd.DataFrame:
    """The training AIMDs' rows of :func:`aimd_costs`, by concentration (the test AIMDs are charged to no model)."""
    return aimd[aimd["kind"] == "training"].set_index("concentration")


def model_costs(
    summary: pd.DataFrame,
    aimd: pd.DataFrame,
    frames_used: Mapping[str, Mapping[str, int]],
    training_wall_h: Mapping[str, float],
    *,
    training_threads: int,
) -> pd.DataFrame:
    """Every model's cost beside its accuracy (mean force RMSE over all test sets, meV/Å, with its uncertainty,
    from the transfer summary): AIMD core-hours charged by the module's one rule (``frames_used``: frames
    taken from each concentration, the model catalogue's ``frames_used``), the full AIMD of its concentrations, and the
    wall and core hours of its fine-tunes (all seeds). The foundation model's own cost is not counted
    (shared by every fine-tune); an external model's is not known (NaN)."""
    runs = training_runs(aimd)
    table = summary[SUMMARY_COLUMNS].copy()
    charged, full = [], []
    computed = runs.index
    for model in table["model"]:
        used = frames_used.get(model, {})
        if not set(used) <= set(computed):  # trained on imported AIMD: what it cost is not known here
            charged.append(np.nan)
            full.append(np.nan)
            continue
        charged.append(
            sum(runs.loc[c, "overhead_core_h"] + n * runs.loc[c, "core_h_per_frame"] for c, n in used.items())
        )
        full.append(sum(runs.loc[c, "total_core_h"] for c in used))
    table["aimd_core_h"] = charged
    table["aimd_full_core_h"] = full
    table["training_wall_h"] = table["model"].map(lambda m: training_wall_h.get(m, 0.0))
    table["training_core_h"] = table["training_wall_h"] * training_threads
    external = table["kind"] == "external"  # trained elsewhere: what it cost is not known here
    table.loc[external, ["aimd_core_h", "aimd_full_core_h", "training_wall_h", "training_core_h"]] = np.nan
    return table
