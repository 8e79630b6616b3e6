"""SLURM resources of each kind of job, from the config's ``cluster`` section.

The keys of ``cluster.resources.<kind>`` are the snakemake-executor-plugin-slurm's resources
(``runtime`` in minutes, ``mem_mb``, ``tasks``, ``mpi``, ``gpu``, ``gpu_model``, ``gres``,
``cpus_per_gpu``, ``constraint``, ``slurm_extra``, ...). The CPU count of a job is its rule's
``threads`` (from the config's ``cp2k``, ``training`` and ``md`` sections), which the plugin passes as
``--cpus-per-task``, so that CP2K's OpenMP threads and torch's threads always match what SLURM gave.
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import ConfigError

# What runs where: CP2K on CPU nodes (MPI), MACE on GPU nodes, everything else small CPU jobs.
JOB_KINDS = ("cp2k", "training", "evaluation", "md", "analysis")


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
    return {**{k: v for k, v in placement.items() if v}, **resources}


def check_slurm_settings(config: Mapping, configfiles: str = "the config file") -> None:
    """Before anything is submitted: the account and partition that only the user can know."""
    cluster = config.get("cluster") or {}
    for key, what in (("account", "SLURM account (sbatch -A)"), ("partition", "SLURM partition for CPU jobs")):
        if not cluster.get(key):
            raise ConfigError(
                f"config key 'cluster.{key}': not set, and `--profile slurm` submits every job with it; "
                f"put your {what} under cluster: in {configfiles}"
            )
