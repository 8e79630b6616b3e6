"""SLURM resources of each kind of job, from the config's ``cluster`` section.

The keys of ``cluster.resources.<kind>`` are the snakemake-executor-plugin-slurm's resources
(``runtime`` in minutes, ``mem_mb``, ``tasks``, ``mpi``, ``gpu``, ``gpu_model``, ``gres``,
``cpus_per_gpu``, ``constraint``, ``slurm_extra``, ...). The CPU count of a job is its rule's
``threads`` (from the config's ``cp2k``, ``training`` and ``md`` sections), which the plugin passes as
``--cpus-per-task``, so that CP2K's OpenMP threads and torch's threads always match what SLURM gave.

Short jobs go to SLURM in bundles (the job groups of the profile, ``slurm/config.yaml``). The plugin runs a
bundle's members one after another (its job step starts the group's Snakemake with ``--jobs 1``), so a bundle
needs the sum of its members' runtimes and the largest member's cores, memory and GPUs, not their sum.
Snakemake's estimate of a group stacks members in series only where a constraint says so: every SLURM job
holds one :data:`BUNDLE_SLOT`, and the profile gives each bundle one (``resources: bundle_slots=1``, scoped
``local``: a limit per bundle, none across the cluster).
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import ConfigError

# What runs where: CP2K on CPU nodes (MPI), MACE on GPU nodes, everything else small CPU jobs.
JOB_KINDS = ("cp2k", "training", "evaluation", "md", "analysis")
BUNDLE_SLOT = {"bundle_slots": 1}


def requests_gpu(resources: Mapping) -> bool:
    return bool(resources.get("gpu")) or "gpu" in str(resources.get("gres", ""))


def job_resources(config: Mapping, kind: str) -> dict:
    """SLURM resources of a ``kind`` of job, with its account and partition (GPU jobs go to
    ``cluster.gpu_partition`` where one is set). Empty without a ``cluster`` section (local runs)."""
    if kind not in JOB_KINDS:
        raise ValueError(f"unknown kind of job {kind!r}; kinds are {JOB_KINDS}")
    cluster = config.get("cluster")
    if not cluster:
        return {}
    resources = dict(cluster.get("resources", {}).get(kind, {}))
    partition = cluster.get("gpu_partition") if requests_gpu(resources) else None
    placement = {"slurm_account": cluster.get("account"), "slurm_partition": partition or cluster.get("partition")}
    return {**{k: v for k, v in placement.items() if v}, **resources, **BUNDLE_SLOT}


def requested_gpus(resources: Mapping) -> int:
    """GPUs a SLURM job asks for: ``gpu``, or the count in ``gres`` ("gpu", "gpu:2", "gpu:a100:2")."""
    if resources.get("gpu"):
        return int(resources["gpu"])
    gres = str(resources.get("gres", ""))
    if not gres.startswith("gpu"):
        return 0
    count = gres.rsplit(":", 1)[-1]
    return int(count) if count.isdigit() else 1


def requested_cores(resources: Mapping, threads: int) -> int:
    """CPU cores a SLURM job asks for, as the plugin asks: ``cpus_per_task`` where set, else ``cpus_per_gpu``
    per GPU where set, else the rule's ``threads`` per task; times its MPI ``tasks``."""
    if resources.get("cpus_per_task"):
        per_task = max(1, int(resources["cpus_per_task"]))
    elif requested_gpus(resources) and resources.get("cpus_per_gpu"):
        return requested_gpus(resources) * int(resources["cpus_per_gpu"])
    else:
        per_task = threads
    return per_task * int(resources.get("tasks") or 1)


def check_slurm_settings(config: Mapping, configfiles: str = "the config file") -> None:
    """Before anything is submitted: the account and partition that only the user can know."""
    cluster = config.get("cluster") or {}
    for key, what in (("account", "SLURM account (sbatch -A)"), ("partition", "SLURM partition for CPU jobs")):
        if not cluster.get(key):
            raise ConfigError(
                f"config key 'cluster.{key}': not set, and `--profile slurm` submits every job with it; "
                f"put your {what} under cluster: in {configfiles}"
            )
