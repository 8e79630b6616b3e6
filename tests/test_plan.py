"""What a study asks of a SLURM allocation (mlip_transfer.plan, `snakemake plan`), held to dry runs through the
repository's profile: short jobs bundled, at most 300 SLURM jobs for production's transfer study and two per
repaired model for its repairs, every GPU job worth its start."""

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pandas as pd
import pytest
import yaml

from conftest import REPO, snakemake
from mlip_transfer.cluster import requested_cores, requested_gpus
from mlip_transfer.plan import Bundling, PlannedRule, plan_rows, study_plan, study_rules
from mlip_transfer.study import Study
from mlip_transfer.validation import check_schema

PROFILE = REPO / "slurm" / "config.yaml"
SITE = {"cluster": {"account": "chem", "partition": "cpu", "gpu_partition": "gpu"}}
CLUSTER = {
    "account": "chem",
    "partition": "cpu",
    "gpu_partition": "gpu",
    "resources": {
        "cp2k": {"tasks": 4, "mpi": "srun", "runtime": 60},
        "evaluation": {"gpu": 1, "mem_mb": 8000, "runtime": 20},
        "analysis": {"mem_mb": 8000, "runtime": 30},
    },
}


def load(name, site=None):
    config = yaml.safe_load((REPO / "config" / name).read_text())
    for key, value in (site or {}).items():
        config[key] = {**config[key], **value}
    check_schema(config, str(REPO / "config" / "schema.yaml"))
    return config


@dataclass
class DryRunJob:
    rule: str
    wildcards: dict = field(default_factory=dict)
    resources: dict = field(default_factory=dict)
    threads: int = 1


def pairs(text):
    items = (item.split("=", 1) for item in text.split(", "))
    return {key: int(value) if value.isdigit() else value for key, value in items}


def dry_run_submissions(output):
    """[(group name or None, jobs)] of every job a dry run lists: a group job with its members, or one job."""
    entries = []
    for line in output.splitlines():
        if group := re.match(r"^\[.*\] Group job (\S+) \(", line):
            entries.append((group[1], []))
        elif job := re.match(r"^( *)rule (\w+):$", line):
            if not job[1]:
                entries.append((None, []))
            entries[-1][1].append(DryRunJob(job[2]))
        elif item := re.match(r"^ +(wildcards|resources|threads): (.*)$", line):
            key, value = item.groups()
            if key == "threads":
                entries[-1][1][-1].threads = int(value)
            else:
                setattr(entries[-1][1][-1], key, pairs(value))
    return entries


def slurm_submissions(entries):
    """The entries that become SLURM jobs: every group job, and every job that holds a bundle slot (a rule with
    cluster resources; local rules hold none)."""
    return [(group, jobs) for group, jobs in entries if group or "bundle_slots" in jobs[0].resources]


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """The production study's dry run through the profile, with a site's account and partitions; --cores only
    lifts the dry run's own limit of one core per job (a real run has none)."""
    workdir = tmp_path_factory.mktemp("production")
    (workdir / "site.yaml").write_text(yaml.safe_dump(SITE))
    out = snakemake(
        "-n", "--cores", "1000", "--profile", "slurm", "--configfile", str(REPO / "config" / "config.yaml"),
        str(workdir / "site.yaml"), workdir=workdir,
    ).stdout  # fmt: skip
    return load("config.yaml", SITE), dry_run_submissions(out)


REPAIR_RULES = {"repair_fine_tune", "pool_disagreement", "label_repair_frames"}


def test_production_submits_at_most_300_slurm_jobs_and_each_models_evaluations_as_one(production):
    config, entries = production
    submitted = slurm_submissions(entries)
    study = Study(config)
    repaired = set(study.repair.members)
    repairs = [jobs for _, jobs in submitted if {job.wildcards.get("model") for job in jobs} <= repaired]
    repairs += [jobs for _, jobs in submitted if jobs[0].rule == "pool_disagreement"]
    assert len(submitted) - len(repairs) <= 300
    # each repaired model: its fine-tune and one bundle of evaluations, and its labels if from MD; each pool's
    # committee
    from_md = [m for m, r in study.repair.repairs.items() if r.source == "md"]
    assert len(repairs) == 2 * len(repaired) + len(from_md) + len(study.repair.committee_pools)
    evaluations = defaultdict(list)  # model → [(its SLURM job, test set)]
    for number, (group, jobs) in enumerate(submitted):
        for job in jobs:
            if job.rule == "evaluate_model":
                evaluations[job.wildcards["model"]].append(((number, group), job.wildcards["test_set"]))
    assert set(evaluations) == {*study.models.evaluated_models, *repaired}
    for model, runs in evaluations.items():
        assert {job for job, _ in runs} == {(runs[0][0][0], f"evaluate_{model}")}  # one SLURM job, by its name
        assert sorted(test_set for _, test_set in runs) == sorted(study.reference.concentrations)


def test_every_production_gpu_job_is_a_long_job_or_a_bundle_of_evaluations(production):
    _, entries = production
    for group, jobs in slurm_submissions(entries):
        if not any(requested_gpus(job.resources) for job in jobs):
            continue
        rules = {job.rule for job in jobs}
        if rules & {"evaluate_model", "evaluate_on_md_references"}:
            assert group and len(jobs) >= 7, (group, len(jobs))  # 7 test sets, or every model on its own MD
        else:
            assert rules <= {"fine_tune", "run_md_batch", *REPAIR_RULES} and not group


def test_the_plan_counts_and_charges_what_the_dry_run_submits(production):
    config, entries = production
    rules = study_rules(Study(config), config)
    stage = {rule.name: rule.stage for rule in rules}
    counted = defaultdict(lambda: [0, 0.0, 0.0])  # stage → SLURM jobs, core-hours, GPU-hours
    for _, jobs in slurm_submissions(entries):
        hours = sum(job.resources["runtime"] for job in jobs) / 60  # members run one after another
        row = counted[stage[jobs[0].rule]]
        row[0] += 1
        row[1] += hours * max(requested_cores(job.resources, job.threads) for job in jobs)
        row[2] += hours * max(requested_gpus(job.resources) for job in jobs)
    jobs_per_rule = Counter(job.rule for _, jobs in entries for job in jobs if job.rule != "all")
    planned = {row["stage"]: row for row in study_plan(Study(config), config, PROFILE)}
    assert {rule.name: len(rule.jobs) for rule in rules if rule.jobs} == jobs_per_rule
    for name, (slurm_jobs, core_hours, gpu_hours) in counted.items():
        row = planned[name]
        assert row["slurm_jobs"] == slurm_jobs, name
        assert row["cpu_core_hours_requested"] == pytest.approx(core_hours, abs=0.05), name
        assert row["gpu_hours_requested"] == pytest.approx(gpu_hours, abs=0.05), name
    assert planned["total"]["slurm_jobs"] == sum(row[0] for row in counted.values())
    assert planned["total"]["jobs"] == sum(jobs_per_rule.values())


@pytest.mark.parametrize("name", ["tiny.yaml", "demo.yaml"])
def test_the_plan_lists_the_jobs_and_local_rules_of_a_dry_run(name, tmp_path):
    config = load(name)
    entries = dry_run_submissions(snakemake("-n", "--configfile", str(REPO / "config" / name), workdir=tmp_path).stdout)
    rules = study_rules(Study(config), config)
    assert {rule.name: len(rule.jobs) for rule in rules if rule.jobs} == Counter(
        job.rule for _, jobs in entries for job in jobs if job.rule != "all"
    )
    on_slurm = {job.rule for _, jobs in slurm_submissions(entries) for job in jobs}
    assert {rule.name for rule in rules if rule.jobs and rule.kind} == on_slurm


def test_every_rule_is_planned_in_the_stage_of_its_file():
    planned = {
        rule.name: rule.stage
        for name in ("tiny.yaml", "config.yaml")  # MD through ASE (run_md) and torch-sim (run_md_batch)
        for rule in study_rules(Study(load(name)), load(name))
    }
    in_files = {
        rule: path.stem
        for path in (REPO / "workflow" / "rules").glob("*.smk")
        for rule in re.findall(r"^\s*rule (\w+):", path.read_text(), re.MULTILINE)
    }
    assert planned == in_files


def test_a_bundle_asks_for_its_members_runtimes_in_series_on_one_gpu():
    config = {"cluster": CLUSTER}
    evaluations = [{"model": m, "test_set": t} for m in "ab" for t in "xyz"]
    rules = [
        PlannedRule("evaluate_model", "evaluation", "evaluation", 1, evaluations),
        PlannedRule("analyse_trajectory", "analysis", "analysis", 1, [{"source": "a", "system": s} for s in "xyz"]),
        PlannedRule("run_aimd", "aimd", "cp2k", 2, [{"system": "x", "segment": "0"}]),
        PlannedRule("summarise_analysis", "analysis", None, 1, [{}]),
    ]  # fmt: skip
    bundling = Bundling(
        {"evaluate_model": "evaluate_{model}", "analyse_trajectory": "analysis_{source}"},
        {"evaluate_{model}": 1000, "analysis_{source}": 2},
    )
    assert bundling.group("evaluate_model", {"model": "a", "test_set": "x"}) == ("evaluate_a", 1000)
    assert bundling.group("run_aimd", {"system": "x", "segment": "0"}) is None
    rows = pd.DataFrame(plan_rows(rules, bundling, config)).set_index("stage")
    # one job per model: 3 × 20 min on one GPU (not three GPUs for 20 min)
    assert rows.loc["evaluation"].tolist() == [6, 2, 2.0, 2.0]
    # 2 members to a job: 60 + 30 min on one core; the local rule runs no SLURM job
    assert rows.loc["analysis"].tolist() == [4, 2, 1.5, 0.0]
    assert rows.loc["aimd"].tolist() == [1, 1, 8.0, 0.0]  # 4 MPI tasks × 2 threads for an hour
    assert rows.loc["total"].tolist() == [11, 5, 11.5, 2.0]


def test_a_kind_of_job_without_a_runtime_leaves_its_hours_unknown():
    config = {"cluster": {**CLUSTER, "resources": {"analysis": {"mem_mb": 8000}}}}
    rules = [PlannedRule("extract_frames", "datasets", "analysis", 1, [{"system": "x"}])]
    (row, total) = plan_rows(rules, Bundling({}, {}), config)
    assert (
        row["slurm_jobs"] == 1
        and math.isnan(row["cpu_core_hours_requested"])
        and math.isnan(total["gpu_hours_requested"])
    )


def test_snakemake_plan_writes_the_production_plan_and_runs_nothing_else(tmp_path):
    proc = snakemake("plan", "--cores", "1", "--configfile", str(REPO / "config" / "config.yaml"), workdir=tmp_path)
    assert "1 of 1 steps (100%) done" in proc.stdout + proc.stderr
    written = pd.read_csv(tmp_path / "results" / "production" / "plan.csv")
    config = load("config.yaml")
    assert written.to_dict("records") == pd.DataFrame(study_plan(Study(config), config, PROFILE)).to_dict("records")
    assert list(written["stage"])[-1] == "total" and written["slurm_jobs"].iloc[-1] > 0
