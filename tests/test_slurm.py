"""`snakemake --profile slurm` for real: the tiny config on a one-node SLURM cluster on localhost.

Only the partition and the resources (no GPUs on this node) are overridden, and the study is smaller (the
tiny run's foundation model as a file instead of pretraining one, the training AIMD's last block as each
concentration's test set, one seed, no learning curve or multi-concentration model, one MD replica whose
four frames are re-labelled in one job) and stops at the transferability matrix and the own-MD errors: what
is under test here is SLURM's handling of every kind of job (CP2K with MPI, training, evaluation, MD), the
profile's bundles of short jobs, a kill and a failure; the statistics, analyses and figures are tested in
test_workflow.py. Everything else is the repository's `slurm` profile. The plugin's status checks use squeue
(there is no accounting database) and start after 1 s instead of 40.
"""

import subprocess
import time

import pandas as pd
import pytest
import yaml
from ase.io import read

import local_slurm
from conftest import REPO, aimd_file, needs_cp2k, restart_step, snakemake_executable

pytestmark = [
    pytest.mark.e2e,
    needs_cp2k,
    pytest.mark.skipif(local_slurm.unavailable_because() is not None, reason=str(local_slurm.unavailable_because())),
]

LOCAL_NODE = {
    "cluster": {
        "partition": "local",
        "resources": {
            kind: {"gpu": 0, "mem_mb": 1000, "runtime": 20}
            for kind in ("cp2k", "training", "evaluation", "md", "analysis")
        },
    },
    "training": {"seeds": [11], "frame_budgets": None, "multi_concentration_models": []},
    "md": {"replicas": 1},
    "md_reference": {"frames": 4, "frames_per_job": 4, "within_percent": 50},
    # one repair point: its fine-tune and its bundle of evaluations as SLURM jobs
    "repair": [{"base": "ft_c3_78", "target": "c11_34", "frames": [2], "selection": ["even"]}],
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with local_slurm.LocalSlurm(tmp_path_factory.mktemp("slurm")) as running:
        yield running


def merged(base, override):
    """``base`` with the mappings of ``override`` merged in, as Snakemake merges two config files."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return override
    return {**base, **{key: merged(base.get(key), value) for key, value in override.items()}}


def profile_command(workdir, *targets, foundation, changes=None, options=()):
    config = merged(yaml.safe_load((REPO / "config" / "tiny.yaml").read_text()), LOCAL_NODE)
    config = merged(config, changes or {})
    config.update(foundation_model={"file": str(foundation)}, test_trajectory=None)
    (workdir / "local_node.yaml").write_text(yaml.safe_dump(config))
    return [
        snakemake_executable(), *targets, *options, "--profile", "slurm", "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(workdir), "--configfile", str(workdir / "local_node.yaml"),
        "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "1",
    ]  # fmt: skip


@pytest.fixture
def foundation(tiny_run):
    return tiny_run / "results" / "tiny" / "models" / "foundation.model"


def slurm_jobs(cluster) -> dict[str, str]:
    """{job id: comment} of the jobs SLURM knows (the plugin puts rule and wildcards in the comment)."""
    out = subprocess.run(
        ["squeue", "-h", "-t", "all", "-o", "%i %k %T"], capture_output=True, text=True, env=cluster.env, check=True
    ).stdout
    return {line.split()[0]: line.split(maxsplit=1)[1] for line in out.splitlines() if line.strip()}


def bundle_jobs(cluster, group: str) -> list[tuple[str, str, str, str]]:
    """(state, time limit, memory, CPUs) of each SLURM job of a bundle (the plugin's comment names its group)."""
    out = subprocess.run(
        ["squeue", "-h", "-t", "all", "-o", "%k|%T|%l|%m|%C"],
        capture_output=True,
        text=True,
        env=cluster.env,
        check=True,
    ).stdout
    return [
        tuple(fields[1:])
        for fields in (line.split("|") for line in out.splitlines())
        if fields[0].startswith(f"rule_{group}_")
    ]


def test_tiny_config_through_slurm_with_a_segment_killed(cluster, foundation, tmp_path):
    run = tmp_path / "results" / "tiny"
    segment = run / "cp2k" / "aimd" / "c3_78" / "segment_1"
    targets = [f"results/tiny/matrix/{table}.csv" for table in ("transferability", "own_md_errors")]
    proc = subprocess.Popen(
        profile_command(tmp_path, *targets, foundation=foundation),
        cwd=REPO,
        env=cluster.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # a node failure part-way through the second AIMD segment: SLURM kills the job, Snakemake retries it
    deadline = time.monotonic() + 900
    while restart_step(aimd_file(segment / "run", "restart")) < 18:
        assert proc.poll() is None and time.monotonic() < deadline, "the AIMD segment never got going"
        time.sleep(0.2)
    victim = [i for i, comment in slurm_jobs(cluster).items() if "run_aimd" in comment and "c3_78" in comment][-1]
    subprocess.run(["scancel", victim], env=cluster.env, check=True)
    output, _ = proc.communicate(timeout=1800)
    assert proc.returncode == 0, output[-4000:]

    jobs = slurm_jobs(cluster)
    assert [state.split()[-1] for state in jobs.values()].count("CANCELLED") == 1
    assert not any(state.endswith("FAILED") for state in jobs.values())  # the kill was the only retry
    # every job of a non-local rule ran as a SLURM job, once: 3 atoms, 2 relaxations, 4 AIMD segments, 2 frame
    # extractions and 2 splits, 2 fine-tunes, 1 repair fine-tune, 1 MD, 1 re-labelling, and the short jobs in
    # bundles: one for the 2 evaluations of each of the 4 models, one for the 3 models on the MD's frames
    assert sum("COMPLETED" in state for state in jobs.values()) == 23
    # a bundle asks for its members' runtimes in series (LOCAL_NODE: 20 min each) on one member's memory and CPU
    for model in ("foundation", "ft_c3_78", "ft_c11_34", "rp_ft_c3_78_at_c11_34_even2"):
        assert bundle_jobs(cluster, f"evaluate_{model}") == [("COMPLETED", "40:00", "1000M", "1")]
    assert bundle_jobs(cluster, "evaluate_on_md_references") == [("COMPLETED", "1:00:00", "1000M", "1")]
    restart = aimd_file(".", "restart").name
    assert f"RESTART_FILE_NAME {restart}" in aimd_file(segment / "run", "input").read_text()  # resumed, not restarted
    steps = [f.info["md_step"] for f in read(run / "frames" / "c3_78.extxyz", ":")]
    assert steps == list(range(4, 31))  # after the equilibration steps, every step once across both segments
    matrix = pd.read_csv(run / "matrix" / "transferability.csv")
    assert set(matrix["model"]) == {"foundation", "ft_c3_78", "ft_c11_34", "rp_ft_c3_78_at_c11_34_even2"}
    assert matrix["force_rmse_meV_per_A"].notna().all()
    (own_md,) = pd.read_csv(run / "matrix" / "own_md_errors.csv").itertuples()  # 4 CP2K single points, one job
    assert own_md.model == "ft_c3_78" and own_md.own_md_force_rmse_meV_per_A > 0


def test_failed_slurm_job_is_reported_as_failed(cluster, foundation, tmp_path):
    """A job that dies on the node fails its rule and the run, naming the rule and the SLURM job."""
    target = "results/tiny/cp2k/atoms/H/energy_eV.txt"
    # the launcher fails on the node (nice rejects its argument); the CP2K schema rule, local, still works
    bad_cp2k = {"cp2k": {"command": ["nice", "-n", "x", "cp2k.psmp"]}}
    proc = subprocess.run(
        profile_command(tmp_path, target, foundation=foundation, changes=bad_cp2k, options=["--retries", "0"]),
        cwd=REPO, env=cluster.env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Error in rule isolated_atom_energy" in output and "SLURM" in output
    assert any("isolated_atom_energy" in job and job.endswith("FAILED") for job in slurm_jobs(cluster).values())
