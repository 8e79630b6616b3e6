"""What a study will ask of a SLURM allocation, before anything runs (``results/<run>/plan.csv``): per stage
(a file of rules, ``workflow/rules/<stage>.smk``), its Snakemake jobs, the SLURM jobs they become through the
repository's profile (``slurm/config.yaml``), and the CPU core-hours and GPU-hours those SLURM jobs request
(``cluster.resources``: runtime × cores, runtime × GPUs), the figures of an allocation request.

A local rule runs in Snakemake itself (the login node): a job, no SLURM job. A bundle (a job group of the
profile) is one SLURM job for up to ``group-components`` members of one group, run one after another
(:mod:`mlip_transfer.cluster`): it requests the sum of their runtimes on the largest member's cores and GPUs.
The members of every bundle are independent jobs (none needs another's output), so each is a component of
its own and a group of n members is ⌈n / group-components⌉ SLURM jobs.

The jobs are those of the whole study from scratch (its default target), listed from the study's catalogues
as the rules read them; tests/test_plan.py holds them to a dry run's.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from .cluster import job_resources, requested_cores, requested_gpus
from .repair.catalogue import MD_POOL
from .study import Study

STAGES = ("aimd", "imported", "datasets", "training", "evaluation", "md", "md_reference", "analysis", "repair")
COLUMNS = ("stage", "jobs", "slurm_jobs", "cpu_core_hours_requested", "gpu_hours_requested")


@dataclass(frozen=True)
class PlannedRule:
    """The jobs of one rule: its stage, its kind of SLURM job (:data:`mlip_transfer.cluster.JOB_KINDS`; None:
    a local rule), its threads (CPUs per MPI task) and the wildcards of each of its jobs."""

    name: str
    stage: str
    kind: str | None
    threads: int
    jobs: Sequence[Mapping[str, str]]


@dataclass(frozen=True)
class SlurmJob:
    """One SLURM job as submitted: its stage, walltime (min; NaN where ``runtime`` is not set), cores and GPUs."""

    stage: str
    runtime_min: float
    cores: int
    gpus: int


def _pairs(entries: Sequence[str] | Mapping | None) -> dict[str, str]:
    """A profile's ``NAME=VALUE`` list (or mapping) as a dict."""
    if isinstance(entries, Mapping):
        return {str(k): str(v) for k, v in entries.items()}
    return dict(entry.split("=", 1) for entry in entries or ())


@dataclass(frozen=True)
class Bundling:
    """A profile's job groups: rule → group name (wildcards in braces take a job's values), and group name (as
    written) → members per SLURM job (``group-components``; 1 where not given)."""

    groups: Mapping[str, str]
    components: Mapping[str, int]

    @classmethod
    def of_profile(cls, path: str | Path) -> Bundling:
        profile = yaml.safe_load(Path(path).read_text()) or {}
        components = {name: int(n) for name, n in _pairs(profile.get("group-components")).items()}
        return cls(_pairs(profile.get("groups")), components)

    def group(self, rule: str, wildcards: Mapping[str, str]) -> tuple[str, int] | None:
        """A job's group (its name with the job's wildcards) and members per SLURM job, or None: alone."""
        name = self.groups.get(rule)
        if name is None:
            return None
        return re.sub(r"{(\w+)}", lambda m: wildcards[m[1]], name), self.components.get(name, 1)


def study_rules(study: Study, config: Mapping) -> list[PlannedRule]:
    """Every rule of the workflow with the jobs a study from scratch runs (those the default target needs)."""
    ref, models, md, repair = study.reference, study.models, study.md, study.repair
    cp2k_threads = config["cp2k"]["threads"] if ref.cp2k else 1
    training_threads = (config["training"] or {}).get("threads", 1)
    ase = config["md"]["engine"] == "ase"
    one, given_e0s = [{}], ref.given_e0s_eV is not None
    computed = [{"system": s} for s in ref.computed_systems]
    split = [label for label in ref.concentrations if models.trains or ref.test_set_source(label)[1] == "block"]
    budgets = [models.variant(m) for m in models.frame_budget_models]
    evaluated = [*((m, t) for m in study.evaluated_models for t in ref.concentrations), *models.in_trajectory_runs()]
    repaired = [{"model": m} for m in repair.models_repaired]
    from_md = [{"model": m} for m, r in repair.repairs.items() if r.source == MD_POOL]
    labelled = [{"model": m, "system": s} for m, s in md.reference_runs]

    def rule(name: str, stage: str, kind: str | None, jobs: Sequence[Mapping[str, str]], threads: int = 1):
        return PlannedRule(name, stage, kind, threads, list(jobs))

    aimd = [
        rule("cp2k_input_schema", "aimd", None, one if computed or labelled or not given_e0s else []),
        rule("build_box", "aimd", None, computed),
        rule("relax_box", "aimd", "cp2k", computed, cp2k_threads),
        rule(
            "isolated_atom_energy",
            "aimd",
            "cp2k",
            [] if given_e0s else [{"element": e} for e in study.hydroxide.elements],
        ),
        rule("collect_reference_energies", "aimd", None, [] if given_e0s else one),
        rule(
            "run_aimd",
            "aimd",
            "cp2k",
            [{"system": s, "segment": str(k)} for s in ref.computed_systems for k in range(ref.aimd_segments(s))],
            cp2k_threads,
        ),
    ]
    return [
        *(aimd if ref.cp2k else []),
        rule("import_frames", "imported", "analysis", [{"system": s} for s in ref.imported_systems]),
        rule("given_reference_energies", "imported", None, one if given_e0s else []),
        rule("extract_frames", "datasets", "analysis", computed),
        rule(
            "split_frames",
            "datasets",
            "analysis",
            [{"system": s} for s in [*split, *([ref.pretrain.label] if ref.pretrain else [])]],
        ),
        rule("mix_multi_concentration", "datasets", None, [{"model": m} for m in models.multi_models]),
        rule(
            "frame_budget",
            "datasets",
            None,
            [{"system": models.fine_tuned[b.model], "frames": str(b.frames)} for b in budgets],
        ),
        rule(
            "resample_committee_frames",
            "datasets",
            None,
            [{"model": m} for m in models.all_fine_tunes if models.resampled(m)],
        ),
        rule("pretrain_foundation_model", "training", "training", one if ref.pretrain else [], training_threads),
        rule("provide_foundation_model", "training", None, one if models.has_foundation and not ref.pretrain else []),
        rule("fine_tune", "training", "training", [{"model": m} for m in models.all_fine_tunes], training_threads),
        rule("provide_external_model", "training", None, [{"model": m} for m in models.external]),
        rule("evaluate_model", "evaluation", "evaluation", [{"model": m, "test_set": t} for m, t in evaluated]),
        rule("transferability_matrix", "evaluation", None, one),
        rule("transfer_views", "evaluation", None, one),
        rule("learning_curves", "evaluation", None, one if budgets else []),
        rule("study_cost", "evaluation", None, one),
        rule("committee_disagreement", "evaluation", None, one if models.has_committees else []),
        rule("parity_plot", "evaluation", "analysis", [{"model": m} for m in models.models]),
        rule(
            "run_md" if ase else "run_md_batch",
            "md",
            "md",
            [{"model": m, "system": s} for m, s in md.runs]
            if ase
            else [{"model": m} for m in dict.fromkeys(m for m, _ in md.runs)],
            config["md"]["threads"],
        ),
        rule("select_md_frames", "md_reference", None, labelled),
        rule(
            "label_md_frames",
            "md_reference",
            "cp2k",
            [{**run, "chunk": str(k)} for run in labelled for k in range(md.reference_chunks)],
            cp2k_threads,
        ),
        rule("join_md_reference", "md_reference", None, labelled),
        rule(
            "evaluate_on_md_references",
            "md_reference",
            "evaluation",
            [{"model": m} for m in models.models] if labelled else [],
        ),
        rule("own_md_errors", "md_reference", None, one if labelled else []),
        rule(
            "analyse_trajectory", "analysis", "analysis", [{"source": s, "system": c} for s, c in study.analysis.runs()]
        ),
        rule("md_stability", "analysis", "analysis", [{"model": m, "system": s} for m, s in md.runs]),
        rule("summarise_analysis", "analysis", None, one),
        rule("repair_md_pool", "repair", None, [{"base": b, "target": t} for b, t in repair.md_pools]),
        rule(
            "pool_disagreement",
            "repair",
            "evaluation",
            [{"base": b, "target": t, "source": s} for b, t, s in repair.committee_pools],
        ),
        rule("select_repair_frames", "repair", None, repaired),
        rule("label_repair_frames", "repair", "cp2k", from_md, cp2k_threads),
        rule("repair_training_frames", "repair", None, repaired),
        rule("repair_fine_tune", "repair", "training", [{"model": m} for m in repair.members], training_threads),
        rule("repair_curves", "repair", None, one if repaired else []),
    ]


def slurm_jobs(rules: Sequence[PlannedRule], bundling: Bundling, config: Mapping) -> list[SlurmJob]:
    """The SLURM jobs the rules' jobs become: one per job of a rule that is neither local nor bundled, one per
    ``group-components`` members of a group (in the order listed; where members differ in cores or GPUs,
    Snakemake's own split may differ, the total runtime does not)."""
    alone, groups = [], defaultdict(list)
    for rule in rules:
        if rule.kind is None:
            continue
        resources = job_resources(config, rule.kind)
        job = SlurmJob(
            rule.stage,
            float(resources.get("runtime", math.nan)),
            requested_cores(resources, rule.threads),
            requested_gpus(resources),
        )
        for wildcards in rule.jobs:
            group = bundling.group(rule.name, wildcards)
            if group:
                groups[group[0]].append((job, group[1]))
            else:
                alone.append(job)
    bundles = []
    for members in groups.values():
        size = members[0][1]
        for start in range(0, len(members), size):
            chunk = [job for job, _ in members[start : start + size]]
            bundles.append(
                SlurmJob(
                    chunk[0].stage,
                    sum(job.runtime_min for job in chunk),
                    max(job.cores for job in chunk),
                    max(job.gpus for job in chunk),
                )
            )
    return alone + bundles


def plan_rows(rules: Sequence[PlannedRule], bundling: Bundling, config: Mapping) -> list[dict]:
    """Per stage with jobs (in :data:`STAGES` order), then ``total``: Snakemake jobs, SLURM jobs, and the core-
    and GPU-hours they request (1 decimal; NaN where a kind of job has no ``runtime``)."""
    submitted = slurm_jobs(rules, bundling, config)

    def row(stage: str, planned: Sequence[PlannedRule], jobs: Sequence[SlurmJob]) -> dict:
        return {
            "stage": stage,
            "jobs": sum(len(r.jobs) for r in planned),
            "slurm_jobs": len(jobs),
            "cpu_core_hours_requested": round(sum(j.runtime_min / 60 * j.cores for j in jobs), 1),
            "gpu_hours_requested": round(sum(j.runtime_min / 60 * j.gpus for j in jobs), 1),
        }

    stages = [
        row(stage, [r for r in rules if r.stage == stage], [j for j in submitted if j.stage == stage])
        for stage in STAGES
        if any(r.jobs for r in rules if r.stage == stage)
    ]
    return [*stages, row("total", rules, submitted)]


def study_plan(study: Study, config: Mapping, profile: str | Path) -> list[dict]:
    """The plan of a (validated) config's study through the SLURM profile at ``profile``: :func:`plan_rows`."""
    return plan_rows(study_rules(study, config), Bundling.of_profile(profile), config)
