import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlip_transfer.limits import SanityLimits
from mlip_transfer.reference import cp2k, cp2k_output

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# MD guards as the schema's defaults: stop above 2000 K or below 0.6 Å between atoms
GUARDS = SanityLimits(max_temperature_K=2000.0, min_distance_A=0.6)

needs_cp2k = pytest.mark.skipif(shutil.which("cp2k.psmp") is None, reason="CP2K (cp2k.psmp) is not installed")


def snakemake_executable() -> str:
    local = BIN / "snakemake"
    return str(local) if local.exists() else "snakemake"


# CP2K DFT settings of the production config (BLYP-D3, DZVP-MOLOPT-SR-GTH, GTH pseudopotentials)
DFT = {
    "method": "dft",
    "dft": {
        "functional": "BLYP",
        "dispersion": "D3",
        "basis_set_file": "BASIS_MOLOPT",
        "potential_file": "GTH_POTENTIALS",
        "basis_sets": {"H": "DZVP-MOLOPT-SR-GTH", "O": "DZVP-MOLOPT-SR-GTH", "K": "DZVP-MOLOPT-SR-GTH"},
        "potentials": {"H": "GTH-BLYP-q1", "O": "GTH-BLYP-q6", "K": "GTH-BLYP-q9"},
        "cutoff_Ry": 400,
        "rel_cutoff_Ry": 60,
    },
}


def aimd_tree(atoms, method, steps=3, print_every=1, project="p"):
    """A short NVT AIMD input (0.5 fs steps, 300 K, CSVR 50 fs)."""
    return cp2k.aimd_input_tree(
        atoms,
        method,
        project=project,
        steps=steps,
        timestep_fs=0.5,
        temperature_K=300,
        thermostat_time_constant_fs=50,
        print_every=print_every,
        seed=1,
    )


def md_run(**overrides):
    """The settings of a short Bussi NVT run (0.5 fs steps, τ 20 fs, one step, every frame, seed 1, the
    schema's guards) with ``overrides``."""
    from mlip_transfer.dynamics.ase_engine import RunSettings

    settings = dict(
        timestep_fs=0.5, steps=1, write_interval=1, seed=1, thermostat={"type": "bussi", "time_constant_fs": 20.0},
        limits=GUARDS,
    )  # fmt: skip
    return RunSettings(**{**settings, **overrides})


def run_md(atoms, path, calculator=None, temperature_K=300, **overrides):
    """A short NVT run (:func:`md_run`) at 300 K with a weak Lennard-Jones potential unless told otherwise."""
    from ase.calculators.lj import LennardJones

    from mlip_transfer.dynamics.ase_engine import run_nvt

    calculator = calculator or LennardJones(sigma=1.0, epsilon=0.001, rc=3.0)
    return run_nvt(atoms, calculator, path, temperature_K=temperature_K, run=md_run(**overrides))


def aimd_file(folder, kind):
    """CP2K's ``positions``, ``forces``, ``energies`` or ``restart`` file, or its ``input``, of an AIMD run in
    ``folder``."""
    project = cp2k_output.AIMD_PROJECT
    name = cp2k_output.input_name(project) if kind == "input" else cp2k_output.md_file_name(project, kind)
    return Path(folder) / name


def aimd_frames(*folders):
    """The frames of consecutive AIMD segments in ``folders`` (10 Å cell)."""
    from mlip_transfer.reference.frames import cp2k_frames

    return cp2k_frames(
        *([aimd_file(d, kind) for d in folders] for kind in ("positions", "forces", "energies")), [10.0] * 3
    )


def restart_step(path) -> int:
    """MD step of a CP2K restart file that a running job may not have written yet (-1 then)."""
    try:
        return cp2k_output.restart_step(path)
    except (OSError, cp2k_output.CP2KError):
        return -1


def run_differently(config):
    """Change only how jobs run (threads, launcher, device, kernels, guards, SLURM): no result may change."""
    config["cp2k"].update(threads=2, command=["nice", "cp2k.psmp"])
    config["training"].update(threads=2, device="cpu", enable_cueq=True)
    config["evaluation"].update(device="cpu", enable_cueq=True)
    config["md"].update(threads=2, device="cpu", enable_cueq=True, max_temperature_K=5000.0)
    config["cluster"]["resources"]["md"]["runtime"] = 60


def reversed_keys(value):
    """A config with every mapping's keys in reverse order, as another YAML writer may leave it."""
    if isinstance(value, dict):
        return {key: reversed_keys(value[key]) for key in reversed(list(value))}
    return [reversed_keys(item) for item in value] if isinstance(value, list) else value


def snakemake(*args, workdir, check=True, env=None):
    command = [snakemake_executable(), "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir), *args]
    proc = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def dry_run(config, tmp_path, *targets):
    return snakemake(
        *targets, "-n", "--quiet", "rules", "--configfile", str(REPO / "config" / config), workdir=tmp_path
    )


def job_counts(output):
    counts = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    return counts


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A finished run of the tiny config, shared and never changed: the concern tests read it, the edit
    tests dry-run against it, other studies start from its foundation model, and tests that change a run
    work on their own copy (:func:`tiny_copy`)."""
    workdir = tmp_path_factory.mktemp("tiny_run")
    snakemake("--cores", "2", "--configfile", str(REPO / "config" / "tiny.yaml"), workdir=workdir)
    return workdir


@pytest.fixture
def tiny_copy(tiny_run, tmp_path):
    """A private copy of the finished tiny run (outputs, times and Snakemake's records), to change."""
    copy = tmp_path / "tiny_run"
    shutil.copytree(tiny_run, copy, symlinks=True)
    return copy


def labelled_frames(n, seed):
    """Small KOH boxes labelled with a Lennard-Jones potential: enough to train on, cheap to make."""
    from ase.calculators.lj import LennardJones

    from mlip_transfer.reference.box import Composition, build_box
    from mlip_transfer.reference.frames import ENERGY_KEY, FORCES_KEY

    frames = []
    for i in range(n):
        atoms = build_box(
            Composition(1, 4, "K"), 6.0, seed=seed + i, min_heavy_distance_A=2.0, attempts_per_molecule=5000
        )
        atoms.calc = LennardJones(sigma=1.5, epsilon=0.01, rc=3.0)
        atoms.info[ENERGY_KEY] = atoms.get_potential_energy()
        atoms.arrays[FORCES_KEY] = atoms.get_forces()
        atoms.calc = None
        frames.append(atoms)
    return frames
