"""Another alkali hydroxide by config alone: the NaOH demo's plan, and its box, AIMD and frames for real."""

import yaml
from ase.io import read

from conftest import REPO, dry_run, job_counts, needs_cp2k, snakemake

NAOH = REPO / "config" / "demo_naoh.yaml"


def test_the_naoh_demo_plans_its_own_chemistry(tmp_path):
    counts = job_counts(dry_run("demo_naoh.yaml", tmp_path).stdout)
    assert counts["run_aimd"] == 2 + 2 + 1  # two concentrations, their test AIMDs, the pretraining box
    assert counts["isolated_atom_energy"] == 3  # H, O and Na
    out = snakemake("-n", "--configfile", str(NAOH), workdir=tmp_path).stdout
    assert "element=Na" in out and "element=K" not in out


@needs_cp2k
def test_a_naoh_box_its_xtb_aimd_and_frames_are_built_for_real(tmp_path):
    config = yaml.safe_load(NAOH.read_text())
    config["cp2k"].update(relax_max_iterations=2)
    config["cp2k"]["aimd"].update(steps=8, print_every=1, equilibration_steps=2)
    config["analysis"]["aimd_diffusion_window_ps"] = [0.0005, 0.002]
    config["test_trajectory"] = {"steps": 4, "equilibration_steps": 1}
    config["split"]["gap_frames"] = 0
    (tmp_path / "naoh.yaml").write_text(yaml.safe_dump(config))
    target = "results/demo_naoh/splits/c3_92/valid.extxyz"  # frames, and a split without a test block
    snakemake(target, "--cores", "2", "--configfile", str(tmp_path / "naoh.yaml"), workdir=tmp_path)
    frames = read(tmp_path / "results/demo_naoh/frames/c3_92.extxyz", index=":")
    assert [f.info["md_step"] for f in frames] == list(range(2, 9))
    assert frames[0].get_chemical_formula() == "H29NaO15"  # 1 NaOH + 14 H2O
    assert all(abs(f.info["REF_energy"]) > 0 for f in frames)
    assert len(read(tmp_path / target, index=":")) == 1 and not (tmp_path / target).with_name("test.extxyz").exists()
    box = read(tmp_path / "results/demo_naoh/boxes/c3_92.extxyz")
    assert abs(box.cell.lengths()[0] - 7.508) < 1e-3  # from NaOH(aq)'s own density table
