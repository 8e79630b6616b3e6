"""How jobs run, never what they compute: the CP2K launcher, devices, kernels, MD guards and thread counts.

A rule hands a job its launch record as the param ``launch``. Snakemake reruns a job whose params changed,
but compares only params of builtin types (``snakemake.persistence``: any other value is "unrepresentable"
and left out): a launch record reaches the job's script, and changing how jobs run never reruns one. What
a job computes is in its other params, which are builtins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .cluster import job_resources
from .limits import SanityLimits


@dataclass(frozen=True)
class Device:
    """Where a MACE model runs: ``device`` (auto, cpu, cuda) and cuEquivariance kernels."""

    device: str
    enable_cueq: bool

    @classmethod
    def of_section(cls, section: Mapping) -> Device:
        return cls(section["device"], section["enable_cueq"])


@dataclass(frozen=True)
class CP2KLaunch:
    """How CP2K is started: its launcher and binary, e.g. ("cp2k.psmp",) or ("srun", "cp2k.psmp")."""

    command: tuple[str, ...]


@dataclass(frozen=True)
class MDLaunch:
    """How an MD job runs: its device, and the guards it stops at (kept and flagged, or failed)."""

    device: Device
    limits: SanityLimits
    keep_unstable_runs: bool


@dataclass(frozen=True)
class CostLaunch:
    """How the jobs behind the study's cost ran, as the config says now (benchmark files do not record it):
    CP2K's MPI ranks and OpenMP threads per rank, and a fine-tune's CPU threads."""

    cp2k_mpi_ranks: int
    cp2k_threads_per_rank: int
    training_threads: int  # 0 where nothing is trained


@dataclass(frozen=True)
class Launch:
    """Every kind of job's launch record, from a validated config."""

    cp2k: CP2KLaunch
    training: Device | None  # None: nothing is trained
    evaluation: Device
    md: MDLaunch
    cost: CostLaunch

    @classmethod
    def from_config(cls, config: Mapping) -> Launch:
        md, cp2k = config["md"], config["cp2k"] or {"command": [], "threads": 1}  # null: no CP2K job runs
        training = config["training"]  # null: an evaluation-only study, which trains nothing
        ranks = job_resources(config, "cp2k").get("tasks", 1)  # one rank where no cluster says otherwise
        return cls(
            cp2k=CP2KLaunch(tuple(cp2k["command"])),
            training=Device.of_section(training) if training else None,
            evaluation=Device.of_section(config["evaluation"]),
            md=MDLaunch(
                Device.of_section(md),
                SanityLimits(md["max_temperature_K"], md["min_distance_A"]),
                md["keep_unstable_runs"],
            ),
            cost=CostLaunch(ranks, cp2k["threads"], training["threads"] if training else 0),
        )
