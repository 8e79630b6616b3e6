"""The study derived once from a config, and the per-job settings that decide what Snakemake reruns."""

import copy

import pytest
import yaml
from snakemake.utils import validate

from conftest import REPO, reversed_keys, run_differently
from mlip_transfer.reference.box import composition_for_molarity
from mlip_transfer.settings import canonical
from mlip_transfer.study import Study


def load(name="tiny.yaml", change=None):
    config = yaml.safe_load((REPO / "config" / name).read_text())
    if change:
        change(config)
    validate(config, str(REPO / "config" / "schema.yaml"))  # fills in the defaults, as the Snakefile does
    return config


def every_job_settings(study):
    """Every job's params as Snakemake compares them (repr), keyed by job."""
    jobs = {"electronic_structure": study.reference.electronic_structure()}
    for system in study.reference.systems:
        jobs[f"box {system}"] = study.reference.box_settings(system)
        for segment in range(study.reference.aimd_segments(system)):
            jobs[f"aimd {system} {segment}"] = study.reference.aimd_settings(system, segment)
    for model, system in study.md.runs:
        jobs[f"md {model} {system}"] = study.md.settings(system).as_params()
    for source, system in study.analysis.runs():
        jobs[f"analysis {source} {system}"] = study.analysis.settings(source, system).as_params()
    for model in study.models.all_fine_tunes:
        jobs[f"fine_tune {model}"] = study.models.fine_tune_settings(model)
    return {job: repr(value) for job, value in jobs.items()}


def test_the_study_of_the_production_config():
    study = Study(load("config.yaml"))
    assert list(study.reference.concentrations) == ["c0_56", "c1_13", "c3_23", "c6_26", "c9_47", "c13_40", "c17_98"]
    assert study.models.models[:2] == ["foundation", "ft_c0_56"] and len(study.models.models) == 10
    assert len(study.md.runs) == 4 * 7 * 4 and study.reference.aimd_segments("c6_26") == 15  # 4 replicas of 28 runs
    c6 = study.reference.concentrations["c6_26"]
    assert (
        c6.composition == composition_for_molarity(6.26, 96, cation="K", oxygen_window=8, tolerance=0.02)
        and c6.stated_molarity_mol_per_L == 6.26
    )
    for system in study.reference.concentrations.values():  # every box has the molarity its label states, within 2 %
        assert abs(system.molarity_mol_per_L / system.stated_molarity_mol_per_L - 1) < 0.02
        assert 88 <= system.composition.n_oxygen <= 104
    assert study.models.training_concentrations("ft_c6_26") == ["c6_26"]
    assert (
        study.reference.aimd_segment_end_step("c6_26", 0) == 4000
        and study.reference.aimd_segment_end_step("c6_26", 14) == 60000
    )
    # every concentration's test set is its own 10 ps AIMD (5 segments), another box and seed
    test = study.reference.systems["c6_26.test"]
    assert (
        study.reference.test_set_source("c6_26") == ("c6_26.test", "trajectory")
        and study.reference.aimd_segments("c6_26.test") == 5
    )
    assert test.composition == c6.composition and test.seed == c6.seed + 1 and test.n_frames(20) == 501
    assert study.reference.in_trajectory_test_sets == [] and study.reference.splits == ["train", "valid"]
    # the authors' fine-tuning protocol
    assert study.models.fine_tune_hyperparameters() == {
        "max_num_epochs": 200, "batch_size": 5, "valid_batch_size": 2, "lr": 0.01, "forces_weight": 10.0,
        "energy_weight": 0.1, "stress_weight": 0.0, "multiheads_finetuning": False,
    }  # fmt: skip
    with pytest.raises(KeyError, match="unknown fine-tuned model 'foundation'"):
        study.models.training_concentrations("foundation")


def test_how_jobs_run_is_in_no_jobs_settings():
    assert every_job_settings(Study(load(change=run_differently))) == every_job_settings(Study(load()))


def test_key_order_changes_no_jobs_settings():
    reordered = load()
    reordered = reversed_keys(reordered)
    assert list(reordered) != list(load())
    assert every_job_settings(Study(reordered)) == every_job_settings(Study(load()))
    assert repr(canonical({"b": {"y": 1, "x": (2, 3)}, "a": 0})) == "{'a': 0, 'b': {'x': [2, 3], 'y': 1}}"


@pytest.mark.parametrize(
    ("change", "changed_jobs"),
    [
        # the replicas start from AIMD frames a time apart
        (lambda c: c["cp2k"]["aimd"].update(timestep_fs=0.4), {"aimd", "analysis AIMD", "md"}),
        (lambda c: c["training"]["fine_tune"].update(lr=0.001), {"fine_tune"}),
        (lambda c: c["training"].update(protocol="conservative"), {"fine_tune"}),
        (lambda c: c["test_trajectory"].update(steps=14), {"aimd c3_78.test", "aimd c11_34.test"}),
        (lambda c: c["md"]["thermostat"].update(time_constant_fs=40.0), {"md"}),
        (lambda c: c["analysis"].update(diffusion_window_ps=[0.002, 0.01]), {"analysis ft_c3_78"}),
        (lambda c: c["analysis"].update(aimd_diffusion_window_ps=[0.002, 0.006]), {"analysis AIMD"}),
        (lambda c: c["analysis"].update(angle_cutoff_deg=35.0), {"analysis"}),
        (lambda c: c["concentrations"][0].update(n_water=13), {"box c3_78"}),
    ],
)
def test_a_science_setting_changes_exactly_the_jobs_it_determines(change, changed_jobs):
    before, after = every_job_settings(Study(load())), every_job_settings(Study(load(change=change)))
    changed = {job for job in before if before[job] != after[job]}
    assert changed and all(any(job.startswith(prefix) for prefix in changed_jobs) for job in changed)
    assert all(any(job.startswith(p) for job in changed) for p in changed_jobs)


def test_adding_runs_changes_no_existing_jobs_settings():
    def grow(config):
        config["concentrations"].append({"label": "c7_61", "n_hydroxide": 2, "n_water": 13})
        config["training"]["multi_concentration_models"].append(
            {"name": "multi_more", "concentrations": ["c7_61", "c3_78"]}
        )
        config["md"]["models"].append("multi_both")
        config["md"]["concentrations"].append("c3_78")
        config["training"]["seeds"].append(5)  # one more committee member per model

    before, after = every_job_settings(Study(load())), every_job_settings(Study(load(change=grow)))
    assert {job: after[job] for job in before} == before
    assert "md multi_both c3_78.r1" in after and "aimd c7_61 1" in after
    assert "fine_tune ft_c3_78.seed5" in after and "'seed': 5" in after["fine_tune ft_c3_78.seed5"]


def test_the_first_seed_trains_the_study_model_and_the_others_its_committee():
    study = Study(load(change=lambda c: c["training"].update(seeds=[3, 8, 9])))
    assert study.models.committee_members[:2] == ["ft_c3_78.seed8", "ft_c3_78.seed9"]
    assert len(study.models.committee_members) == 2 * (
        len(study.models.models) - 1
    )  # the foundation model is not trained
    assert study.models.variant("ft_c3_78") == ("ft_c3_78", 3, None)
    assert study.models.variant("multi_both.seed9") == ("multi_both", 9, None)
    assert study.models.variant("ft_c3_78.frames20") == ("ft_c3_78", 3, 20)  # learning curves: the first seed
    config = load(change=lambda c: c["training"].update(seeds=None))
    one = Study(config)
    assert one.models.seeds == [config["seed"]] and one.models.committee_members == []  # null: the run's seed


def test_the_tiny_study_keeps_the_in_trajectory_block_beside_its_test_aimd():
    study = Study(load())
    assert study.reference.in_trajectory_test_sets == ["c3_78.block", "c11_34.block"]
    assert study.reference.test_set_source("c3_78.block") == ("c3_78", "block")
    assert ("ft_c3_78.seed12", "c3_78.block") in study.models.in_trajectory_runs()
    assert study.reference.split_sizes("c3_78") == {"train": 17, "valid": 4, "test": 6}  # 27 frames after equilibration
    # what each model takes from each concentration's AIMD (train + valid), for the cost
    assert study.models.frames_used("ft_c3_78") == {"c3_78": 21} and study.models.frames_used("ft_c3_78.frames4") == {
        "c3_78": 8
    }
    assert study.models.frames_used("multi_both") == {"c3_78": 9 + 2, "c11_34": 8 + 2}
    without = Study(load(change=lambda c: c.update(test_trajectory=None)))
    assert (
        without.reference.test_set_source("c3_78") == ("c3_78", "block")
        and without.reference.in_trajectory_test_sets == []
    )


def test_defaults_come_from_the_schema():
    config = load()
    assert config["md"]["max_temperature_K"] == 2000.0 and config["md"]["min_distance_A"] == 0.6
    assert config["training"]["enable_cueq"] is False and config["analysis"]["viscosity_mPa_s"] == {}
    assert config["cluster"]["envmodules"]["cp2k"] == []
    bare = copy.deepcopy(load())
    del bare["cluster"]
    validate(bare, str(REPO / "config" / "schema.yaml"))
    assert bare["cluster"]["envmodules"]["cp2k"] == []
