"""SLURM resources per kind of job from the config, and the account/partition check."""

import pytest
import yaml

from conftest import REPO
from mlip_transfer.cluster import JOB_KINDS, check_slurm_settings, job_resources, requested_cores, requested_gpus
from mlip_transfer.errors import ConfigError

PRODUCTION = yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def with_cluster(**settings):
    return {**PRODUCTION, "cluster": {**PRODUCTION["cluster"], **settings}}


def test_cp2k_jobs_are_mpi_jobs_on_the_cpu_partition():
    config = with_cluster(account="chem", partition="cpu", gpu_partition="gpu")
    resources = job_resources(config, "cp2k")
    assert resources["slurm_account"] == "chem" and resources["slurm_partition"] == "cpu"
    assert resources["mpi"] == "srun" and resources["tasks"] == 32 and resources["runtime"] == 1440


def test_gpu_jobs_go_to_the_gpu_partition_and_cpu_jobs_do_not():
    config = with_cluster(account="chem", partition="cpu", gpu_partition="gpu")
    assert job_resources(config, "training")["slurm_partition"] == "gpu"
    assert job_resources(config, "training")["gpu"] == 1
    assert job_resources(config, "analysis")["slurm_partition"] == "cpu"
    no_gpu_partition = with_cluster(account="chem", partition="cpu", gpu_partition=None)
    assert job_resources(no_gpu_partition, "md")["slurm_partition"] == "cpu"


def test_local_runs_have_no_slurm_resources():
    assert job_resources({k: v for k, v in PRODUCTION.items() if k != "cluster"}, "cp2k") == {}
    with pytest.raises(ValueError, match="unknown kind of job 'gpu'"):
        job_resources(PRODUCTION, "gpu")


def test_missing_account_then_partition_is_named():
    with pytest.raises(ConfigError, match=r"'cluster.account': not set.*config/config.yaml"):
        check_slurm_settings(PRODUCTION, "config/config.yaml")
    with pytest.raises(ConfigError, match=r"'cluster.partition': not set"):
        check_slurm_settings(with_cluster(account="chem"))
    check_slurm_settings(with_cluster(account="chem", partition="cpu"))


def test_every_slurm_job_holds_one_bundle_slot():
    # the profile gives a bundle one slot (resources: bundle_slots=1, scoped local): its members run in series
    config = with_cluster(account="chem", partition="cpu")
    assert all(job_resources(config, kind)["bundle_slots"] == 1 for kind in JOB_KINDS)


def test_cores_and_gpus_are_counted_as_the_plugin_requests_them():
    assert requested_cores({"tasks": 32, "mpi": "srun"}, threads=2) == 64  # MPI ranks × OpenMP threads
    assert requested_cores({"gpu": 1}, threads=8) == 8
    assert requested_cores({"gpu": 2, "cpus_per_gpu": 4}, threads=1) == 8
    assert requested_cores({"cpus_per_task": 16}, threads=1) == 16
    gres = [{}, {"gpu": 2}, {"gres": "gpu"}, {"gres": "gpu:a100:4"}, {"gres": "tmpspace:10G"}]
    assert [requested_gpus(resources) for resources in gres] == [0, 2, 1, 4, 0]
