"""The Snakemake workflow: schema validation, dry runs of every config, lint, targets, and a real run."""

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from ase.data import chemical_symbols
from ase.io import read

from conftest import (
    REPO,
    aimd_file,
    aimd_frames,
    dry_run,
    job_counts,
    needs_cp2k,
    restart_step,
    reversed_keys,
    run_differently,
    snakemake,
    snakemake_executable,
)
from mlip_transfer.dynamics import trajectory
from mlip_transfer.errors import ConfigError
from mlip_transfer.files import partial_path, sha256
from mlip_transfer.reference.cp2k_output import TRAJECTORY_FILES
from mlip_transfer.reference.frames import ENERGY_KEY, cp2k_frames
from mlip_transfer.validation import check_config, check_schema

TINY_LABELS = ("c3_78", "c11_34")
MODELS = ("foundation", "ft_c3_78", "ft_c11_34", "multi_both")  # of the tiny config
COMMITTEE = ("ft_c3_78.seed12", "ft_c11_34.seed12", "multi_both.seed12")  # its second training seed
BUDGETS = ("ft_c3_78.frames4", "ft_c3_78.frames8")  # its learning curve


def test_production_dry_run_lists_the_full_dag(tmp_path):
    counts = job_counts(dry_run("config.yaml", tmp_path).stdout)
    # 15 AIMD segments each, and 5 of the independent test AIMD of every concentration (its own box)
    assert counts["run_aimd"] == 7 * 15 + 7 * 5 and counts["build_box"] == counts["relax_box"] == 14
    assert counts["fine_tune"] == 9 * 3 + 3  # 7 single + 2 multi-concentration models, 3 seeds; 3 frame budgets
    # foundation + every fine-tune + the 11 repaired models (3 budgets × 3 selections + an MD round of 2), on 7
    assert counts["evaluate_model"] == (1 + 9 * 3 + 3 + 11) * 7 and counts["repair_fine_tune"] == 11
    # torch-sim: one job per model runs its 7 concentrations × 4 replicas; each run is checked for stability
    assert counts["run_md_batch"] == 4 and counts["md_stability"] == 4 * 7 * 4
    assert counts["provide_foundation_model"] == 1
    # DFT on 20 frames of each run's first replica, in one CP2K job; every model evaluated on all of them
    assert counts["label_md_frames"] == 4 * 7 and counts["evaluate_on_md_references"] == 10
    assert counts["transferability_matrix"] == 1 and counts["summarise_analysis"] == 1
    assert counts["committee_disagreement"] == 1 and counts["transfer_views"] == 1


def test_slurm_profile_dry_run_gives_each_kind_of_job_its_resources(tmp_path):
    (tmp_path / "site.yaml").write_text("cluster: {account: chem, partition: cpu, gpu_partition: gpu}\n")
    out = snakemake(
        "-n", "--profile", "slurm", "--configfile", str(REPO / "config" / "config.yaml"), str(tmp_path / "site.yaml"),
        workdir=tmp_path,
    ).stdout  # fmt: skip
    jobs = {block.split("\n", 1)[0].strip(): block for block in re.split(r"\n(?:local)?rule ", out)}
    assert "slurm_account=chem" in jobs["run_aimd:"] and "tasks=32" in jobs["run_aimd:"]
    assert "mpi=srun" in jobs["run_aimd:"] and "slurm_partition=cpu" in jobs["run_aimd:"]
    assert "gpu=1" in jobs["fine_tune:"] and "slurm_partition=gpu" in jobs["fine_tune:"]
    assert "slurm_partition" not in jobs["build_box:"]  # local rules run on the login node


@needs_cp2k
def test_cp2k_rules_load_the_configured_environment_modules(tmp_path):
    # a stand-in for Lmod's `module`, recording what it is asked to load
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "module").write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "module.log"}\n')
    (tmp_path / "bin" / "module").chmod(0o755)
    configfile = variant(tmp_path, "modules", lambda c: c["cluster"].update(envmodules={"cp2k": ["CP2K/2023.1"]}))
    command = [snakemake_executable(), "results/tiny/cp2k/cp2k_input.xml", "--snakefile", str(REPO / "Snakefile"),
               "--directory", str(tmp_path), "--cores", "1", "--software-deployment-method", "env-modules",
               "--configfile", configfile]  # fmt: skip
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}"}
    proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "load CP2K/2023.1" in (tmp_path / "module.log").read_text()


def test_demo_configfile_replaces_the_production_config(tmp_path):
    out = snakemake("-n", "--configfile", str(REPO / "config" / "demo.yaml"), workdir=tmp_path).stdout
    assert "c7_61" in out and "results/demo/" in out
    assert "c0_56" not in out and "results/production" not in out
    # 3 concentrations, their 3 test AIMDs, the pretraining box
    assert job_counts(dry_run("demo.yaml", tmp_path).stdout)["run_aimd"] == 7


def test_concentration_target_runs_that_chain_alone(tmp_path):
    # targets go before --configfile, which takes several values
    out = snakemake(
        "concentration_c3_78", "-n", "--configfile", str(REPO / "config" / "demo.yaml"), workdir=tmp_path
    ).stdout
    assert "system=c3_78" in out and "system=pretrain" in out  # the foundation model it is fine-tuned from
    assert "system=c3_78.test" in out  # its test set
    assert "system=c7_61" not in out and "system=c11_34" not in out


def test_lint_has_no_findings(tmp_path):
    proc = snakemake("--lint", "--configfile", str(REPO / "config" / "demo.yaml"), workdir=tmp_path)
    assert "Lints for" not in proc.stdout + proc.stderr


def test_bad_config_is_rejected_naming_the_key(tmp_path):
    bad = (REPO / "config" / "tiny.yaml").read_text().replace("steps: 30", "steps: -3")
    (tmp_path / "bad.yaml").write_text(bad)
    proc = snakemake("-n", "--configfile", str(tmp_path / "bad.yaml"), workdir=tmp_path, check=False)
    assert proc.returncode != 0
    assert "-3 is less than the minimum of 1" in proc.stderr + proc.stdout


def test_config_on_the_command_line_applies_to_the_production_config(tmp_path):
    out = snakemake("-n", "--config", "seed=3", workdir=tmp_path).stdout
    assert "results/production/" in out and "c17_98" in out


def tiny_table(workdir, *parts, **read):
    return pd.read_csv(workdir.joinpath("results", "tiny", *parts), **read)


def trace(manifest, path):
    """Every file upstream of ``path`` in a provenance manifest (its inputs, their inputs, ...)."""
    upstream, todo = set(), [path]
    while todo:
        for source in manifest["outputs"].get(todo.pop(), {}).get("inputs", {}):
            if source not in upstream:
                upstream.add(source)
                todo.append(source)
    return upstream


@pytest.mark.e2e
@needs_cp2k
def test_every_model_and_seed_is_judged_on_every_test_set(tiny_run):
    matrix = tiny_table(tiny_run, "matrix", "transferability.csv")
    assert set(matrix["model"]) == {*MODELS, *BUDGETS, *REPAIRED}
    assert set(matrix["test_concentration"]) == set(TINY_LABELS)
    assert (matrix["force_rmse_meV_per_A"] > 0).all() and matrix["force_rmse_se_meV_per_A"].gt(0).all()
    # two training seeds: every fine-tune's entry is a mean over both, with their spread; one foundation model
    n_seeds = matrix.set_index("model")["n_seeds"]
    assert (n_seeds[list(MODELS[1:])] == 2).all() and (n_seeds[["foundation", *BUDGETS, *REPAIRED]] == 1).all()
    assert (matrix.loc[matrix["model"].isin(MODELS[1:]), "force_rmse_sd_meV_per_A"] > 0).all()
    assert set(tiny_table(tiny_run, "matrix", "errors_per_seed.csv")["model"]) == {
        *MODELS, *COMMITTEE, *BUDGETS, *REPAIRED
    }  # fmt: skip
    for name in ("force_rmse_meV_per_A.png", "force_rmse_meV_per_A.pdf", "energy_rmse_offset_free_meV_per_atom.png"):
        assert (tiny_run / "results" / "tiny" / "matrix" / name).stat().st_size > 5000


@pytest.mark.e2e
@needs_cp2k
def test_test_sets_are_independent_aimds_at_the_boxes_own_molarity(tiny_run):
    matrix = tiny_table(tiny_run, "matrix", "transferability.csv")
    assert (matrix["n_frames"] == 11).all() and matrix["block_length_frames"].ge(5).all()  # steps 2–12
    assert matrix["test_molarity_mol_per_L"].round(2).isin([3.78, 11.34]).all()
    assert (matrix["energy_offset_meV_per_atom"].abs() > 0).all()
    home = tiny_table(tiny_run, "matrix", "home_test_sets.csv").set_index("model")
    assert set(home.index) == {"ft_c3_78", "ft_c11_34"} and home["independent_over_in_trajectory"].gt(0).all()


@pytest.mark.e2e
@needs_cp2k
def test_views_rank_like_for_like_and_say_why(tiny_run):
    relative = tiny_table(tiny_run, "matrix", "relative_to_home.csv", index_col=0)
    assert relative.loc["ft_c3_78", "c3_78"] == 1.0 and relative.loc["ft_c11_34", "c11_34"] == 1.0
    advice = tiny_table(tiny_run, "matrix", "recommendation.csv").iloc[0]
    assert advice["best_single_model"] in {"ft_c3_78", "ft_c11_34"} and "mol/L" in advice["statement"]
    assert advice["decided_by"] == "ratio_to_best" and "paired difference" in advice["statement"]
    summary = tiny_table(tiny_run, "matrix", "transfer_summary.csv").set_index("model")
    assert set(summary.loc[list(BUDGETS), "kind"]) == {"budget"} and summary.loc["multi_both", "kind"] == "multi"


@pytest.mark.e2e
@needs_cp2k
def test_the_committee_says_what_its_members_differ_in(tiny_run):
    committee = tiny_table(tiny_run, "matrix", "committee_disagreement.csv")
    assert len(committee) == 3 * 2 and (committee["committee_force_sd_meV_per_A"] > 0).all()
    assert (committee["members_differ_in"] == "seed and bootstrap-resampled training frames").all()


@pytest.mark.e2e
@needs_cp2k
def test_every_model_is_charged_its_aimd_by_one_rule(tiny_run):
    costs = tiny_table(tiny_run, "cost", "models.csv").set_index("model")
    assert (costs.loc[["ft_c3_78", "multi_both"], ["aimd_core_h", "training_wall_h"]] > 0).all().all()
    aimd = tiny_table(tiny_run, "cost", "aimd_core_hours.csv").set_index("run")
    assert set(aimd.index) == {*TINY_LABELS, *(f"{c}.test" for c in TINY_LABELS)}
    # multi_both: both concentrations' overheads, half of each one's frames; its full cost is both AIMDs
    both = aimd.loc[list(TINY_LABELS), "total_core_h"].sum()
    assert costs.loc["multi_both", "aimd_full_core_h"] == pytest.approx(both)
    assert costs.loc["multi_both", "aimd_core_h"] < costs.loc["multi_both", "aimd_full_core_h"]
    assert costs.loc["ft_c3_78.frames4", "aimd_core_h"] < costs.loc["ft_c3_78", "aimd_core_h"]


@pytest.mark.e2e
@needs_cp2k
def test_learning_curves_put_each_subset_at_its_frames(tiny_run):
    curves = tiny_table(tiny_run, "matrix", "learning_curves.csv")
    assert set(curves["test_concentration"]) == set(TINY_LABELS)
    assert sorted(set(curves["training_frames"])) == [4, 8, 17]  # 17: all of the training block


@pytest.mark.e2e
@needs_cp2k
def test_repairs_continue_their_base_and_are_judged_like_every_model(tiny_run):
    run = tiny_run / "results" / "tiny"
    summary = tiny_table(tiny_run, "matrix", "transfer_summary.csv").set_index("model")
    assert (summary.loc[list(REPAIRED), "kind"] == "repair").all()
    curves = tiny_table(tiny_run, "repair", "curves.csv")
    assert set(curves["selection"]) == {"even", "committee", "md_even", "md_committee"}
    assert set(curves["test_concentration"]) == set(TINY_LABELS)  # judged on every test set
    even = curves.query("selection == 'even' and test_concentration == 'c11_34'")
    assert list(even["n_frames"]) == [0, 2, 4]
    # n = 0 is the base's first seed, the weights the repairs start from
    first_seed = tiny_table(tiny_run, "matrix", "errors_per_seed.csv").set_index(["model", "test_concentration"])
    assert even["force_rmse_meV_per_A"].iloc[0] == pytest.approx(
        first_seed.loc[("ft_c3_78", "c11_34"), "force_rmse_meV_per_A"]
    )
    assert (curves["force_rmse_ci_low_meV_per_A"] <= curves["force_rmse_meV_per_A"]).all()
    assert (curves["force_rmse_meV_per_A"] <= curves["force_rmse_ci_high_meV_per_A"]).all()
    assert curves.query("n_frames > 0")["reference_core_h"].gt(0).all()  # AIMD frames and MD single points
    # continued from the base's weights, on the new frames and as many of the base's own
    command = json.loads((run / "models" / "rp_ft_c3_78_at_c11_34_even4_mace_run_train" / "command.json").read_text())
    assert command[command.index("--foundation_model") + 1] == "results/tiny/models/ft_c3_78.model"
    train = read(run / "repair" / "models" / "rp_ft_c3_78_at_c11_34_even4" / "train.extxyz", ":")
    own = read(run / "splits" / "c3_78" / "train.extxyz", ":")
    assert len(train) == 8 and sum(any(np.allclose(t.positions, o.positions) for o in own) for t in train) == 4
    verdicts = tiny_table(tiny_run, "repair", "summary.csv").set_index("selection")
    assert set(verdicts.index) == {"even", "committee", "md_even", "md_committee"}
    assert np.isfinite(verdicts.loc["committee", "minus_even_meV_per_A"])  # paired, at 4 frames
    assert verdicts.loc["committee", "statement"].startswith("ft_c3_78 at c11_34 by committee selection")
    assert (run / "repair" / "curves.png").stat().st_size > 5000


@pytest.mark.e2e
@needs_cp2k
def test_repair_frames_are_never_test_frames_and_committee_picks_the_largest_disagreement(tiny_run):
    from mace.calculators import MACECalculator

    run = tiny_run / "results" / "tiny"
    selected = tiny_table(tiny_run, "repair", "selected_frames.csv")
    pool = read(run / "splits" / "c11_34" / "train.extxyz", ":")
    tests = [*read(run / "frames" / "c11_34.test.extxyz", ":"), *read(run / "splits" / "c11_34" / "test.extxyz", ":")]
    for name in FROM_AIMD:
        given = read(run / "repair" / "models" / name / "selected.extxyz", ":")
        rows = selected[selected["selection"] + selected["n_frames"].astype(str) == name.rsplit("_", 1)[-1]]
        assert [pool[k].info["md_step"] for k in rows["frame"]] == [g.info["md_step"] for g in given]
        assert not any(np.abs(g.positions - t.positions).max() < 1e-3 for g in given for t in tests)
    # DP-GEN's max_devi_f recomputed here with MACE's own calculator: per atom the norm of the per-component
    # standard deviation over the two seeds, its maximum over atoms
    members = [
        MACECalculator(model_paths=str(run / "models" / f"{m}.model"), device="cpu", default_dtype="float64")
        for m in ("ft_c3_78", "ft_c3_78.seed12")
    ]
    forces = np.array([[m.get_forces(frame) for m in members] for frame in pool])  # frames × members × atoms × 3
    deviation = np.sqrt(((forces - forces.mean(axis=1, keepdims=True)) ** 2).mean(axis=1).sum(axis=-1)).max(axis=-1)
    table = tiny_table(tiny_run, "repair", "pools", "ft_c3_78", "c11_34", "aimd.csv")
    np.testing.assert_allclose(table["committee_disagreement_meV_per_A"], 1000 * deviation, rtol=1e-6)
    for n in (2, 4):
        picked = selected.query(f"selection == 'committee' and n_frames == {n}")["frame"]
        assert set(picked) == set(np.argsort(-deviation)[:n])


@pytest.mark.e2e
@needs_cp2k
def test_md_and_aimd_are_analysed_alike(tiny_run):
    hbonds = tiny_table(tiny_run, "tables", "hbonds.csv")
    assert (
        set(hbonds["model"]) == {"ft_c3_78", "AIMD"} and (hbonds.loc[hbonds["model"] == "AIMD", "mean_n_OH-"] > 0).all()
    )
    diffusion = tiny_table(tiny_run, "tables", "diffusion.csv")
    assert {"K+", "OH-"} <= set(diffusion["species"]) and "md_stopped_early" in diffusion.columns
    assert {"experimental_conductivity_S_per_m", "nernst_einstein_S_per_m"} <= set(diffusion.columns)
    # femtosecond fit windows, far below analysis.min_diffusion_window_ps: every D is flagged as not converged
    assert diffusion["msd_loglog_slope"].notna().all() and not diffusion["diffusive"].any()
    run = tiny_run / "results" / "tiny"
    for fig in ("hbonds_per_OH", "OH_OH_hbonds", "proton_transfer", "diffusion", "conductivity", "rdf"):
        assert (run / "figures" / f"{fig}.pdf").exists()
    assert (run / "analysis" / "AIMD" / "c3_78" / "hbond_correlation.csv").exists()


@pytest.mark.e2e
@needs_cp2k
def test_md_runs_are_replicated_checked_for_stability_and_against_the_reference_on_their_own_frames(tiny_run):
    diffusion = tiny_table(tiny_run, "tables", "diffusion.csv").query("model == 'ft_c3_78'")
    assert set(diffusion["n_replicas"]) == {2} and diffusion["D_1e-9_m2_per_s_replica_se"].notna().all()
    assert {"O", "H"} <= set(diffusion["species"]) and diffusion["einstein_helfand_over_nernst_einstein"].notna().all()
    per_replica = tiny_table(tiny_run, "tables", "diffusion_per_replica.csv").query("model == 'ft_c3_78'")
    assert set(per_replica["replica"]) == {0, 1}
    stability = tiny_table(tiny_run, "tables", "md_stability.csv")
    assert sorted(stability["replica"]) == [0, 1] and stability["aimd_min_distance_O-O_A"].between(2.0, 3.0).all()
    assert stability["left_aimd_range"].dtype == bool and stability["frames_examined"].gt(0).all()
    # xTB single points on 4 frames of the first replica's MD: every model judged on them
    reference = read(tiny_run / "results/tiny/md_reference/ft_c3_78/c11_34.r0/reference.extxyz", index=":")
    assert len({a.info["md_step"] for a in reference}) == 4 and all(np.isfinite(a.arrays["REF_forces"]).all()
                                                                   for a in reference)  # fmt: skip
    every_model = tiny_table(tiny_run, "matrix", "own_md_matrix.csv")
    assert set(every_model["model"]) == set(MODELS) and set(every_model["test_concentration"]) == {"ft_c3_78@c11_34.r0"}
    (verdict,) = tiny_table(tiny_run, "matrix", "own_md_errors.csv").itertuples()
    assert verdict.model == "ft_c3_78" and verdict.md_run == "c11_34.r0" and verdict.aimd_test_force_rmse_meV_per_A > 0
    assert verdict.own_md_over_aimd_test == pytest.approx(
        verdict.own_md_force_rmse_meV_per_A / verdict.aimd_test_force_rmse_meV_per_A
    )


@pytest.mark.e2e
@needs_cp2k
def test_the_manifest_traces_a_figure_to_its_frames_and_models(tiny_run):
    manifest = json.loads((tiny_run / "results" / "tiny" / "manifest.json").read_text())
    assert manifest["config"]["run_name"] == "tiny" and manifest["cp2k"].startswith("CP2K version")
    upstream = trace(manifest, "results/tiny/figures/hbonds_per_OH.png")
    assert {"results/tiny/frames/c11_34.extxyz", "results/tiny/models/ft_c3_78.model"} <= upstream
    inputs = manifest["outputs"]["results/tiny/matrix/transferability.csv"]["inputs"]
    assert inputs and all(len(sha) == 64 for sha in inputs.values())


@pytest.mark.e2e
@needs_cp2k
def test_every_job_left_a_benchmark_and_trainings_kept_to_their_folders(tiny_run):
    assert len(list((tiny_run / "results" / "tiny" / "benchmarks").glob("*/*.tsv"))) >= 20
    assert not (tiny_run / "results" / "checkpoints").exists() and not (tiny_run / "checkpoints").exists()


@pytest.mark.e2e
@needs_cp2k
def test_the_report_holds_every_figure_with_valid_captions(tiny_run, tmp_path):
    report = tmp_path / "report.html"
    built = snakemake("--report", str(report), "--configfile", str(REPO / "config" / "tiny.yaml"), workdir=tiny_run)
    assert "ERROR/" not in built.stdout + built.stderr  # every caption is valid reStructuredText
    html = report.read_text(errors="replace")
    figures = ["ratio_to_best", "force_rmse_meV_per_A", "force_rmse_relative_to_home", "error_versus_distance"]
    figures += ["parity_ft_c3_78"]
    figures += ["OH_OH_hbonds", "diffusion", "committee_disagreement", "cost_accuracy", "learning_curves"]
    figures += ["own_md_errors"]
    tables = ["home_test_sets.csv", "recommendation.csv", "own_md_errors.csv"]
    for entry in [*(f"{name}.png" for name in figures), *tables]:
        assert f'/{entry}"' in html  # a report entry per figure and table, keyed by its path
    assert "per hydroxide versus KOH concentration" in html  # captions, with the run's settings filled in:
    assert "30.0\\u00b0" in html and "{{" not in html.split('id="results"')[1].split("</script>")[0]


def planned_jobs(workdir, configfile):
    """The jobs a dry run plans, as 'rule' or 'rule[wildcard=value, ...]' (the target rule 'all' left out)."""
    out = snakemake("-n", "--configfile", configfile, workdir=workdir).stdout
    jobs = set()
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", out)[1:]:
        rule = re.match(r"(?:local)?rule (\w+):", block).group(1)
        wildcards = re.search(r"\n\s+wildcards: ([^\n]*)", block)
        jobs.add(f"{rule}[{wildcards.group(1)}]" if wildcards else rule)
    return jobs - {"all"}


def _add_concentration(c):
    c["concentrations"].append({"label": "c7_61", "n_hydroxide": 2, "n_water": 13})


def _foundation_file(c, workdir):
    shutil.copyfile(workdir / "results/tiny/models/foundation.model", workdir / "mace_foundation.model")
    c["foundation_model"] = {"file": str(workdir / "mace_foundation.model")}


def _external_model(c, workdir):
    """A model trained elsewhere: here the tiny run's own ft_c3_78, copied out of its results."""
    shutil.copyfile(workdir / "results/tiny/models/ft_c3_78.model", workdir / "theirs.model")
    c["external_models"] = [{"name": "theirs", "file": str(workdir / "theirs.model"), "source": "a copy"}]


BLOCKS = {  # each fine-tune (and seed) on its own training AIMD's test block, beside the independent test AIMD
    f"evaluate_model[model={m}, test_set={c}.block]" for c in TINY_LABELS for m in (f"ft_{c}", f"ft_{c}.seed12")
}
EVALUATIONS = {
    f"evaluate_model[model={m}, test_set={c}]" for m in MODELS + COMMITTEE + BUDGETS for c in TINY_LABELS
} | BLOCKS
FINE_TUNES = {f"fine_tune[model={m}]" for m in MODELS[1:] + COMMITTEE + BUDGETS}
PARITY = {f"parity_plot[model={m}]" for m in MODELS}
# the matrix and its views (the own-MD verdicts set each run beside its model's AIMD-test error)
MATRIX = {
    "transferability_matrix", "transfer_views", "committee_disagreement", "study_cost", "own_md_errors", "repair_curves"
}  # fmt: skip


def analyses(source, label):
    """The analysis of both replicas of an MD run."""
    return {f"analyse_trajectory[source={source}, system={label}.r{k}]" for k in (0, 1)}


def md_run(model, label):
    """Both replicas of an MD run, their analysis and stability, and the re-labelling of the first one's frames
    (in the tiny config's two chunks)."""
    first = f"model={model}, system={label}.r0"
    return {
        *(f"{rule}[model={model}, system={label}.r{k}]" for rule in ("run_md", "md_stability") for k in (0, 1)),
        *analyses(model, label), f"select_md_frames[{first}]", f"join_md_reference[{first}]",
        *(f"label_md_frames[{first}, chunk={k}]" for k in (0, 1)),
    }  # fmt: skip


OWN_MD = {f"evaluate_on_md_references[model={m}]" for m in MODELS} | {"own_md_errors"}  # every model on them
# the tiny config's repairs of ft_c3_78 at c11_34: from its training block (2 budgets × 2 selections) and its MD
FROM_AIMD = [f"rp_ft_c3_78_at_c11_34_{s}{n}" for s in ("even", "committee") for n in (2, 4)]
FROM_MD = [f"rp_ft_c3_78_at_c11_34_{s}2" for s in ("md_even", "md_committee")]
REPAIRED = (*FROM_AIMD, *FROM_MD)
POOLS = {f"pool_disagreement[base=ft_c3_78, target=c11_34, source={s}]" for s in ("aimd", "md")}
REPAIRS_FROM_SELECTION = {
    *(f"{rule}[model={m}]" for rule in ("select_repair_frames", "repair_training_frames", "repair_fine_tune")
      for m in REPAIRED),
    *(f"label_repair_frames[model={m}]" for m in FROM_MD),
    *(f"evaluate_model[model={m}, test_set={c}]" for m in REPAIRED for c in TINY_LABELS), "repair_curves",
}  # fmt: skip
ALL_REPAIRS = REPAIRS_FROM_SELECTION | POOLS | {"repair_md_pool[base=ft_c3_78, target=c11_34]"}
# even picks of the AIMD block depend on neither the base's weights nor its committee
EVEN_AIMD_PICKS = {
    f"{rule}[model=rp_ft_c3_78_at_c11_34_even{n}]"
    for rule in ("select_repair_frames", "repair_training_frames")
    for n in (2, 4)
}
BY_COMMITTEE = ("rp_ft_c3_78_at_c11_34_committee2", "rp_ft_c3_78_at_c11_34_committee4", FROM_MD[1])
MD_AND_ANALYSIS = md_run("ft_c3_78", "c11_34") | OWN_MD
EDITS = {
    "nothing": (lambda c: None, set()),
    "add a concentration": (
        _add_concentration,
        {"build_box[system=c7_61]", "relax_box[system=c7_61]", "run_aimd[system=c7_61, segment=0]",
         "run_aimd[system=c7_61, segment=1]", "extract_frames[system=c7_61]", "split_frames[system=c7_61]",
         "build_box[system=c7_61.test]", "relax_box[system=c7_61.test]", "run_aimd[system=c7_61.test, segment=0]",
         "extract_frames[system=c7_61.test]", "resample_committee_frames[model=ft_c7_61.seed12]",
         "fine_tune[model=ft_c7_61]", "fine_tune[model=ft_c7_61.seed12]", "evaluate_on_md_references[model=ft_c7_61]",
         "analyse_trajectory[source=AIMD, system=c7_61]", "summarise_analysis",
         *MATRIX, *PARITY, "parity_plot[model=ft_c7_61]",
         *{f"evaluate_model[model={m}, test_set=c7_61]" for m in MODELS + COMMITTEE + BUDGETS + REPAIRED},
         "learning_curves",
         *{f"evaluate_model[model={m}, test_set={c}]" for m in ("ft_c7_61", "ft_c7_61.seed12")
           for c in (*TINY_LABELS, "c7_61", "c7_61.block")}},
    ),
    "add a multi-concentration model": (
        lambda c: c["training"]["multi_concentration_models"].append(
            {"name": "multi_again", "concentrations": ["c11_34", "c3_78"]}
        ),
        {"mix_multi_concentration[model=multi_again]", "parity_plot[model=multi_again]", *MATRIX,
         "evaluate_on_md_references[model=multi_again]",
         "resample_committee_frames[model=multi_again.seed12]",
         *{f"fine_tune[model={m}]" for m in ("multi_again", "multi_again.seed12")},
         *{f"evaluate_model[model={m}, test_set={c}]" for m in ("multi_again", "multi_again.seed12")
           for c in TINY_LABELS}},
    ),
    "add a model to md.models": (
        lambda c: c["md"]["models"].append("multi_both"),
        md_run("multi_both", "c11_34") | OWN_MD | {"summarise_analysis"},  # every model on the new run's frames
    ),
    "add a concentration to md.concentrations": (
        lambda c: c["md"]["concentrations"].append("c3_78"),
        md_run("ft_c3_78", "c3_78") | OWN_MD | {"summarise_analysis"},
    ),
    "add a training seed": (
        lambda c: c["training"]["seeds"].append(13),
        {*MATRIX, *{f"fine_tune[model={m}.seed13]" for m in MODELS[1:]},
         *{f"resample_committee_frames[model={m}.seed13]" for m in MODELS[1:]},
         *{f"evaluate_model[model={m}.seed13, test_set={c}]" for m in MODELS[1:] for c in TINY_LABELS},
         *{f"evaluate_model[model=ft_{c}.seed13, test_set={c}.block]" for c in TINY_LABELS},
         *POOLS, "repair_curves", f"label_repair_frames[model={FROM_MD[1]}]",  # a new member of the committee:
         *(f"{rule}[model={m}]" for rule in ("select_repair_frames", "repair_training_frames", "repair_fine_tune")
           for m in BY_COMMITTEE),  # the committee's picks
         *(f"evaluate_model[model={m}, test_set={c}]" for m in BY_COMMITTEE for c in TINY_LABELS)},
    ),
    "add a frame budget": (
        lambda c: c["training"]["frame_budgets"]["frames"].append(12),
        {"frame_budget[system=c3_78, frames=12]", "fine_tune[model=ft_c3_78.frames12]", "learning_curves",
         *MATRIX, *{f"evaluate_model[model=ft_c3_78.frames12, test_set={c}]" for c in TINY_LABELS}},
    ),
    "add a repair budget": (
        lambda c: c["repair"][0]["frames"].append(6),
        {*MATRIX,
         *(f"{rule}[model=rp_ft_c3_78_at_c11_34_{s}6]" for s in ("even", "committee")
           for rule in ("select_repair_frames", "repair_training_frames", "repair_fine_tune")),
         *(f"evaluate_model[model=rp_ft_c3_78_at_c11_34_{s}6, test_set={c}]" for s in ("even", "committee")
           for c in TINY_LABELS)},
    ),
    "lengthen the test AIMD": (
        lambda c: c["test_trajectory"].update(steps=14),
        {*{f"run_aimd[system={c}.test, segment=0]" for c in TINY_LABELS},
         *{f"extract_frames[system={c}.test]" for c in TINY_LABELS}, *(EVALUATIONS - BLOCKS), *PARITY,
         *MATRIX, "learning_curves", *REPAIRS_FROM_SELECTION},  # each repair's frames checked against them
    ),
    "change the MD fit window": (
        lambda c: c["analysis"].update(diffusion_window_ps=[0.004, 0.012]),
        analyses("ft_c3_78", "c11_34") | {"summarise_analysis"},
    ),
    "change the H-bond angle": (
        lambda c: c["analysis"].update(angle_cutoff_deg=35.0),
        analyses("ft_c3_78", "c11_34") | {"summarise_analysis"}
        | {f"analyse_trajectory[source=AIMD, system={c}]" for c in TINY_LABELS},
    ),
    "change threads, command, device and guards": (run_differently, set()),
    "change the fine-tuning learning rate": (
        lambda c: c["training"]["fine_tune"].update(lr=0.004),
        FINE_TUNES | (EVALUATIONS - {"evaluate_model[model=foundation, test_set=c3_78]",
                                     "evaluate_model[model=foundation, test_set=c11_34]"})
        | (PARITY - {"parity_plot[model=foundation]"}) | MD_AND_ANALYSIS
        | MATRIX | {"summarise_analysis", "learning_curves"} | (ALL_REPAIRS - EVEN_AIMD_PICKS),
    ),
    "add an external model": (
        _external_model,
        {"provide_external_model[model=theirs]", "parity_plot[model=theirs]", "evaluate_on_md_references[model=theirs]",
         *MATRIX, *{f"evaluate_model[model=theirs, test_set={c}]" for c in TINY_LABELS}},
    ),
    "change the foundation model file": (
        _foundation_file,
        {"provide_foundation_model", *FINE_TUNES, *EVALUATIONS, *PARITY, *MD_AND_ANALYSIS,
         *MATRIX, "summarise_analysis", "learning_curves", *(ALL_REPAIRS - EVEN_AIMD_PICKS)},
    ),
}  # fmt: skip


@pytest.mark.e2e
@needs_cp2k
@pytest.mark.parametrize("edit", EDITS)
def test_an_edit_of_a_finished_study_plans_exactly_the_jobs_it_changes(tiny_run, edit):
    change, expected = EDITS[edit]
    config = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())
    if change in (_foundation_file, _external_model):
        change(config, tiny_run)
    else:
        change(config)
    configfile = tiny_run / f"{edit.replace(' ', '_')}.yaml"
    configfile.write_text(yaml.safe_dump(config, sort_keys=False))
    assert planned_jobs(tiny_run, str(configfile)) == expected


IMPORTED_MODELS = ["foundation", "ft_c3_78", "ft_c11_34"]  # trained by both studies (first seed)


def imported_tiny_config(tiny_run, workdir):
    """The tiny study of the tiny run's own AIMD, imported and never computed: training AIMDs as CP2K's files
    (two segments each; the cell from the CP2K input), test AIMDs as extended XYZ (the run's test frames,
    copied to archive/), the E0s given, the foundation model and an external model ("theirs", a copy of
    ft_c3_78) as files, and no CP2K (cp2k: null). Trained as the tiny run's first seed, without its learning
    curve, multi-concentration model and MD (its code is the same whatever the frames' source). Files in
    ``workdir`` are named relative to it (a copy of it plans the same)."""
    run = tiny_run / "results" / "tiny"
    (workdir / "archive").mkdir()
    for label in TINY_LABELS:
        shutil.copyfile(run / "frames" / f"{label}.test.extxyz", workdir / "archive" / f"{label}.test.extxyz")
    config = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())
    segments = {label: [run / "cp2k" / "aimd" / label / f"segment_{k}" for k in (0, 1)] for label in TINY_LABELS}
    config["concentrations"] = [
        {"label": label, "imported": {
            "training": {"format": "cp2k", "equilibration_ps": 0.002,  # the tiny AIMD's 4 steps of 0.5 fs
                         **{kind: [str(aimd_file(d, kind)) for d in segments[label]] for kind in TRAJECTORY_FILES},
                         "cell_from": str(aimd_file(segments[label][0] / "run", "input"))},
            "test": {"format": "ase", "files": [f"archive/{label}.test.extxyz"], "equilibration_ps": 0,
                     "energy_key": "REF_energy", "forces_key": "REF_forces", "energy_unit": "eV",
                     "forces_unit": "eV/A", "frame_interval_fs": 0.5}}}
        for label in TINY_LABELS
    ]  # fmt: skip
    e0s = json.loads((run / "reference" / "e0s_eV.json").read_text())
    for name, model in (("foundation", "foundation"), ("theirs", "ft_c3_78")):
        shutil.copyfile(run / "models" / f"{model}.model", workdir / f"{name}.model")  # named as "<name>.model"
    config.update(
        run_name="imported",
        cp2k=None,
        test_trajectory=None,
        reference_energies={"source": "the tiny run", "e0s_eV": {chemical_symbols[int(z)]: e for z, e in e0s.items()}},
        foundation_model={"file": "foundation.model"},
        external_models=[{"name": "theirs", "file": "theirs.model", "source": "a copy of ft_c3_78"}],
    )
    config["training"].update(seeds=[11], frame_budgets=None, multi_concentration_models=[])
    config["md"].update(models=[], concentrations=[])
    # an external base repaired at c11_34 with no replay (nothing of its training is named)
    config["repair"] = [{"base": "theirs", "target": "c11_34", "frames": [2], "selection": ["even"], "replay": 0}]
    configfile = workdir / "imported.yaml"
    configfile.write_text(yaml.safe_dump(config, sort_keys=False))
    return configfile


def without_cp2k(tmp_path):
    """The environment with every program on PATH but CP2K's."""
    folder = tmp_path / "bin_without_cp2k"
    folder.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        for program in Path(directory).glob("*") if Path(directory).is_dir() else []:
            if not program.name.startswith("cp2k") and not (folder / program.name).exists():
                (folder / program.name).symlink_to(program)
    return {**os.environ, "PATH": str(folder)}


@pytest.fixture(scope="module")
def imported_run(tiny_run, tmp_path_factory):
    """The imported tiny study (:func:`imported_tiny_config`), run to the end with no CP2K on PATH."""
    workdir = tmp_path_factory.mktemp("imported_run")
    configfile = imported_tiny_config(tiny_run, workdir)
    env = without_cp2k(workdir)
    assert shutil.which("cp2k.psmp", path=env["PATH"]) is None
    snakemake("--cores", "2", "--configfile", str(configfile), workdir=workdir, env=env)
    return workdir, configfile


@pytest.mark.e2e
@needs_cp2k
def test_the_tiny_runs_own_aimd_imported_gives_its_matrix_without_cp2k(tiny_run, imported_run):
    workdir, _ = imported_run
    ran = {folder.name for folder in (workdir / "results" / "imported" / "benchmarks").iterdir()}
    assert "import_frames" in ran and not ran & {"run_aimd", "relax_box", "isolated_atom_energy", "label_md_frames"}
    for table, models in (("errors_per_seed", IMPORTED_MODELS), ("transferability", ["foundation"])):
        computed, imported = (
            pd.read_csv(d / "results" / run / "matrix" / f"{table}.csv").set_index(["model", "test_concentration"])
            for d, run in ((tiny_run, "tiny"), (workdir, "imported"))
        )  # each model (first seed) on each test set; the seed statistics of the one model seeded once in both
        pd.testing.assert_frame_equal(imported.loc[models], computed.loc[models], check_exact=True)
    evaluations = workdir / "results" / "imported" / "evaluation"
    for label in TINY_LABELS:  # theirs is ft_c3_78's first seed under another name: the same errors
        theirs, ours = (pd.read_csv(evaluations / m / f"{label}.csv").iloc[0] for m in ("theirs", "ft_c3_78"))
        assert theirs["force_rmse_meV_per_A"] == ours["force_rmse_meV_per_A"]
    summary = pd.read_csv(workdir / "results/imported/matrix/transfer_summary.csv").set_index("model")
    assert summary.loc["theirs", "kind"] == "external" and np.isnan(summary.loc["theirs", "rank_ratio_to_best"])
    cost = pd.read_csv(workdir / "results/imported/cost/models.csv").set_index("model")
    assert cost["aimd_core_h"].drop("foundation").isna().all()  # imported AIMD: paid elsewhere
    diffusion = pd.read_csv(workdir / "results/imported/tables/diffusion.csv")
    assert set(diffusion.query("model == 'AIMD'")["concentration"]) == set(TINY_LABELS)  # imported frames analysed
    manifest = json.loads((workdir / "results/imported/manifest.json").read_text())
    assert "cp2k: null" in manifest["skipped"]["md_reference"] and manifest["cp2k"] is None
    positions = str(aimd_file(tiny_run / "results/tiny/cp2k/aimd/c3_78/segment_0", "positions"))
    assert manifest["imported_files"][positions] == sha256(positions)
    # an external base repaired on imported frames: a row of the matrix; its frames' cost is not known here
    assert summary.loc["rp_theirs_at_c11_34_even2", "kind"] == "repair"
    curves = pd.read_csv(workdir / "results/imported/repair/curves.csv")
    assert set(curves["n_frames"]) == {0, 2} and curves.query("n_frames > 0")["reference_core_h"].isna().all()


def test_an_active_learning_round_needs_the_reference_method(tiny_run, tmp_path, monkeypatch):
    config = yaml.safe_load(imported_tiny_config(tiny_run, tmp_path).read_text())
    config["repair"][0]["md_round"] = {"frames": 2}
    monkeypatch.chdir(tmp_path)  # the config names its files relative to its folder
    check_schema(config, REPO / "config" / "schema.yaml")
    with pytest.raises(ConfigError, match=r"repair\[0\]\.md_round': labels the base's MD frames .* cp2k is null"):
        check_config(config)


@pytest.mark.e2e
@needs_cp2k
def test_replacing_or_adding_an_imported_file_reruns_exactly_what_depends_on_it(imported_run, tmp_path):
    copy = tmp_path / "imported_run"
    shutil.copytree(imported_run[0], copy, symlinks=True)
    configfile = str(copy / imported_run[1].name)
    assert planned_jobs(copy, configfile) == set()
    replaced = copy / "archive" / "c3_78.test.extxyz"
    replaced.write_text(replaced.read_text().replace(" 0.0", " 0.00"))  # another file of the same frames
    jobs = planned_jobs(copy, configfile)
    assert {j for j in jobs if j.startswith(("import_frames", "fine_tune", "analyse_trajectory"))} == {
        "import_frames[system=c3_78.test]"
    }
    assert {j for j in jobs if j.startswith("evaluate_model")} == {
        f"evaluate_model[model={m}, test_set=c3_78]"
        for m in ("foundation", "theirs", "rp_theirs_at_c11_34_even2", *(f"ft_{c}" for c in TINY_LABELS))
    }  # the repair, at c11_34, keeps its frames
    config = yaml.safe_load(Path(configfile).read_text())
    training = config["concentrations"][1]["imported"]["training"]  # c11_34's: a third segment, repeating the second
    for kind in TRAJECTORY_FILES:
        shutil.copyfile(training[kind][-1], copy / "archive" / f"segment_2.{kind}")
        training[kind].append(f"archive/segment_2.{kind}")
    Path(configfile).write_text(yaml.safe_dump(config, sort_keys=False))
    jobs = planned_jobs(copy, configfile)
    assert {
        "import_frames[system=c11_34]",
        "fine_tune[model=ft_c11_34]",
        "analyse_trajectory[source=AIMD, system=c11_34]",
    } <= jobs
    assert not {"import_frames[system=c3_78]", "fine_tune[model=ft_c3_78]"} & jobs


def evaluation_only_config(tiny_run, workdir):
    """The imported tiny study (:func:`imported_tiny_config`) that trains nothing (training: null) and has no
    foundation model: it judges two external models, copies of the tiny run's ft_c3_78 ("theirs", declared
    trained at c3_78, and run in MD at c11_34) and ft_c11_34 ("theirs_c11", declared at c11_34)."""
    config = yaml.safe_load(imported_tiny_config(tiny_run, workdir).read_text())
    shutil.copyfile(tiny_run / "results/tiny/models/ft_c11_34.model", workdir / "theirs_c11.model")
    config.update(
        run_name="evaluation_only",
        training=None,
        foundation_model=None,
        external_models=[
            {"name": "theirs", "file": "theirs.model", "source": "a copy of ft_c3_78",
             "training_concentrations": ["c3_78"]},
            {"name": "theirs_c11", "file": "theirs_c11.model", "source": "a copy of ft_c11_34",
             "training_concentrations": ["c11_34"]},
        ],
    )  # fmt: skip
    config["evaluation"]["default_dtype"] = "float64"  # the tiny run's fine-tunes'
    config["md"].update(models=["theirs"], concentrations=["c11_34"])
    config["repair"] = []  # a repair fine-tune takes the study's training settings
    configfile = workdir / "evaluation_only.yaml"
    configfile.write_text(yaml.safe_dump(config, sort_keys=False))
    return configfile


@pytest.mark.e2e
@needs_cp2k
def test_an_evaluation_only_study_judges_external_models_without_training_or_cp2k(tiny_run, imported_run, tmp_path):
    configfile = evaluation_only_config(tiny_run, tmp_path)
    env = without_cp2k(tmp_path)
    snakemake("--cores", "2", "--configfile", str(configfile), workdir=tmp_path, env=env)
    results = tmp_path / "results" / "evaluation_only"
    ran = {folder.name for folder in (results / "benchmarks").iterdir()}
    assert {"import_frames", "evaluate_model", "run_md", "analyse_trajectory"} <= ran
    assert not ran & {"fine_tune", "pretrain_foundation_model", "provide_foundation_model", "run_aimd"}
    per_seed, trained = (
        pd.read_csv(d / "matrix" / "errors_per_seed.csv").set_index(["model", "test_concentration"]).loc[["theirs"]]
        for d in (results, imported_run[0] / "results" / "imported")
    )  # the external model's rows: the same whether the study also trains or not
    pd.testing.assert_frame_equal(per_seed, trained, check_exact=True)
    matrix = pd.read_csv(results / "matrix" / "transferability.csv")
    assert set(matrix["model"]) == {"theirs", "theirs_c11"}
    advice = pd.read_csv(results / "matrix" / "recommendation.csv").iloc[0]
    assert advice["best_single_model"] in {"theirs", "theirs_c11"} and "Train on" in advice["statement"]
    relative = pd.read_csv(results / "matrix" / "relative_to_home.csv", index_col=0)
    assert relative.loc["theirs", "c3_78"] == relative.loc["theirs_c11", "c11_34"] == 1.0  # the declared homes
    diffusion = pd.read_csv(results / "tables" / "diffusion.csv")
    assert {"theirs", "AIMD"} <= set(diffusion["model"])
    report = tmp_path / "report.html"
    built = snakemake("--configfile", str(configfile), "--report", str(report), workdir=tmp_path, env=env)
    assert "ERROR/" not in built.stdout + built.stderr and "nothing trained" in report.read_text(errors="replace")


@pytest.mark.e2e
@needs_cp2k
def test_a_longer_aimd_runs_only_its_new_segments(tiny_run):
    jobs = planned_jobs(tiny_run, variant(tiny_run, "longer_aimd", lambda c: c["cp2k"]["aimd"].update(steps=60)))
    segments = {f"run_aimd[system={s}, segment={k}]" for s in (*TINY_LABELS, "pretrain") for k in (2, 3)}
    assert {job for job in jobs if job.startswith("run_aimd")} == segments
    assert not any(job.startswith(("build_box", "relax_box", "isolated_atom_energy")) for job in jobs)
    assert "run_md[model=ft_c3_78, system=c11_34.r0]" in jobs  # new frames: everything after them


@pytest.mark.e2e
@needs_cp2k
def test_the_same_config_with_its_keys_in_another_order_plans_nothing(tiny_run):
    config = reversed_keys(yaml.safe_load((REPO / "config" / "tiny.yaml").read_text()))
    (tiny_run / "reordered.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    assert planned_jobs(tiny_run, str(tiny_run / "reordered.yaml")) == set()


@pytest.mark.e2e
@needs_cp2k
def test_the_torch_sim_engine_runs_every_md_concentration_of_a_model_in_one_job(tiny_copy):
    tiny_run = tiny_copy

    def fast_engine(config):  # the 3-epoch model's physics is not under test: looser guards
        config["md"].update(engine="torch_sim", concentrations=["c11_34", "c3_78"], min_distance_A=0.3)
        config["md_reference"] = None  # the engine alone is under test

    snakemake("--cores", "2", "--configfile", variant(tiny_run, "torch_sim", fast_engine), workdir=tiny_run)
    run = tiny_run / "results" / "tiny"
    assert "one batch of 4 boxes" in (run / "logs" / "run_md_batch" / "ft_c3_78.log").read_text()  # 2 replicas each
    for system in ("c11_34.r0", "c11_34.r1", "c3_78.r0", "c3_78.r1"):
        assert trajectory.read(run / "md" / "ft_c3_78" / f"{system}.h5").steps.tolist() == list(range(0, 41, 2))
    diffusion = pd.read_csv(run / "tables" / "diffusion.csv")
    assert {"c11_34", "c3_78"} <= set(diffusion.loc[diffusion["model"] == "ft_c3_78", "concentration"])


@pytest.mark.e2e
@needs_cp2k
def test_a_killed_md_resumes_through_the_workflow(tiny_copy):
    kill_md_and_resume_the_workflow(tiny_copy, tiny_copy / "results" / "tiny")


@pytest.mark.e2e
@needs_cp2k
def test_a_killed_fine_tune_resumes_through_the_workflow(tiny_copy):
    kill_training_and_resume_the_workflow(tiny_copy, tiny_copy / "results" / "tiny")


@pytest.mark.e2e
@needs_cp2k
def test_a_killed_aimd_segment_resumes_through_the_workflow(tiny_copy):
    kill_aimd_and_resume_the_workflow(tiny_copy, tiny_copy / "results" / "tiny")


def variant(tmp_path, name, change):
    """The tiny config with ``change`` applied, written to ``<name>.yaml``."""
    config = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())
    change(config)
    (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(config))
    return str(tmp_path / f"{name}.yaml")


def kill_part_way_then_rerun(tmp_path, configfile, ready, *targets):
    """Run Snakemake until ``ready()``, SIGKILL it and its jobs, then unlock and rerun as the README says."""
    command = [snakemake_executable(), *targets, "--snakefile", str(REPO / "Snakefile"), "--directory",
               str(tmp_path), "--cores", "2", "--configfile", configfile]  # fmt: skip
    proc = subprocess.Popen(
        command, cwd=REPO, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 600
    while not ready():
        assert proc.poll() is None and time.monotonic() < deadline, "the step finished or stalled before the kill"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    snakemake("--unlock", "--configfile", configfile, workdir=tmp_path)  # the kill left the lock
    snakemake(*targets, "--cores", "2", "--configfile", configfile, "--rerun-incomplete", workdir=tmp_path)


def kill_aimd_and_resume_the_workflow(tmp_path, run):
    """Longer AIMD in two 30-step segments: SIGKILL during the second, rerun; it continues from its own
    restart file, the first segment is not recomputed, every step is kept once."""
    configfile = variant(tmp_path, "long_aimd", lambda c: c["cp2k"]["aimd"].update(steps=60, segment_steps=30))
    aimd = run / "cp2k" / "aimd" / "c3_78"
    target = str(aimd_file("results/tiny/cp2k/aimd/c3_78/segment_1", "restart"))

    def second_segment_under_way():
        return restart_step(aimd_file(aimd / "segment_1" / "run", "restart")) >= 40

    first_segment = {}

    def remember_first_segment():
        done = second_segment_under_way()
        if done:
            first_segment.update({f.name: f.stat().st_mtime_ns for f in (aimd / "segment_0").glob("aimd*")})
        return done

    kill_part_way_then_rerun(tmp_path, configfile, remember_first_segment, target)
    restart = aimd_file(".", "restart").name
    assert f"RESTART_FILE_NAME {restart}" in aimd_file(aimd / "segment_1" / "run", "input").read_text()
    assert {f.name: f.stat().st_mtime_ns for f in (aimd / "segment_0").glob("aimd*")} == first_segment
    segments = [aimd / f"segment_{k}" for k in (0, 1)]
    frames = aimd_frames(*segments)
    assert [f.info["md_step"] for f in frames] == list(range(61))
    # a run whose .ener files were not kept: the same times and energies from the position files' comment lines
    positions, forces = ([aimd_file(d, kind) for d in segments] for kind in ("positions", "forces"))
    from_comments = cp2k_frames(positions, forces, None, [10.0] * 3)
    assert [f.info["time_fs"] for f in from_comments] == [f.info["time_fs"] for f in frames]
    energies = [[f.info[ENERGY_KEY] for f in run_frames] for run_frames in (from_comments, frames)]
    assert np.allclose(*energies, rtol=0, atol=1e-6)  # eV; both files print the energy to 1e-10 Hartree or better


def kill_training_and_resume_the_workflow(tmp_path, run):
    """Longer fine-tune: SIGKILL after a few epochs, rerun; mace_run_train continues from its checkpoint."""
    configfile = variant(tmp_path, "long_training", lambda c: c["training"]["fine_tune"].update(max_num_epochs=30))
    log = run / "logs" / "fine_tune" / "ft_c3_78.log"
    checkpoints = run / "models" / "ft_c3_78_mace_run_train" / "checkpoints"

    def a_few_epochs_done():
        epochs = [int(m.group(1)) for f in checkpoints.glob("*.pt") if (m := re.search(r"epoch-(\d+)", f.name))]
        return max(epochs, default=0) >= 3

    kill_part_way_then_rerun(tmp_path, configfile, a_few_epochs_done, "results/tiny/models/ft_c3_78.model")
    text = log.read_text()
    assert "Loading checkpoint" in text and "Epoch 0:" not in text and "Epoch 29:" in text
    assert (run / "models" / "ft_c3_78.model").stat().st_size > 10_000


def kill_md_and_resume_the_workflow(tmp_path, run):
    """Longer MD (changed params rerun it): SIGKILL Snakemake and its jobs part-way, rerun, check the MD
    resumed from its last frame and kept every frame once."""

    def longer_md(config):
        # the resume is under test, not the 3-epoch model's physics: looser guards
        config["md"].update(steps=600, write_interval=10, min_distance_A=0.3, max_temperature_K=1.0e5, replicas=1)
        config["analysis"]["diffusion_window_ps"] = [0.002, 0.25]
        config["md_reference"] = None  # the run alone is under test
        config["repair"] = []  # (its active-learning round would label the long run's wild frames)

    configfile = variant(tmp_path, "long_md", longer_md)
    partial = partial_path(run / "md" / "ft_c3_78" / "c11_34.r0.h5")
    killed_at = []

    def twenty_frames_written():
        if partial.exists() and _frames(partial) >= 20:
            killed_at.append(_frames(partial))
            return True
        return False

    kill_part_way_then_rerun(tmp_path, configfile, twenty_frames_written)
    log = (run / "logs" / "run_md" / "ft_c3_78_c11_34.r0.log").read_text()
    assert re.search(r"resuming .* from step \d+ of 600", log)
    steps = trajectory.read(run / "md" / "ft_c3_78" / "c11_34.r0.h5").steps.tolist()
    assert steps == list(range(0, 601, 10)) and killed_at[0] < len(steps)
    assert trajectory.stop_reason(run / "md" / "ft_c3_78" / "c11_34.r0.h5") == ""  # it ran to its last step
    assert not partial.exists() and (run / "tables" / "diffusion.csv").exists()


def _frames(path):
    return trajectory.frame_count(path)


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML loading that refuses a key given twice in one mapping (PyYAML keeps the last silently)."""

    def construct_mapping(self, node, deep=False):
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        repeated = {key for key in keys if keys.count(key) > 1}
        assert not repeated, f"line {node.start_mark.line + 1}: {sorted(repeated)} given twice"
        return super().construct_mapping(node, deep)


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "config").glob("*.yaml")))
def test_shipped_configs_give_no_key_twice(name):
    yaml.load((REPO / "config" / name).read_text(), Loader=UniqueKeyLoader)
