"""Where a run's files live: every path under ``results/<run_name>/`` is spelled here and nowhere else.

The workflow (``workflow/rules/common.smk``) builds one :class:`Layout` per run and every rule's inputs,
outputs, logs and benchmarks come from it; the package uses it for the manifest. Arguments may be Snakemake
wildcards (``"{system}"``) as well as names: a method returns the pattern of a rule's output then.

```
results/<run_name>/
  boxes/<system>.extxyz                      packed box
  cp2k/cp2k_input.xml                        the installed CP2K's input schema
  cp2k/relax/<system>/relaxed.extxyz         relaxed box (CP2K's own files beside it)
  cp2k/atoms/<element>/energy_eV.txt         isolated-atom energy
  cp2k/aimd/<system>/segment_<k>/<project>-… one walltime-sized AIMD segment (CP2K's own file names)
  reference/e0s_eV.json                      the E0s every model is given
  frames/<system>.extxyz                     AIMD frames after equilibration
  splits/<system>/<split>.extxyz             time-block splits; multi/, budgets/, committee/ beside them
  models/<model>.model                       trained models (mace_run_train's folder: <model>_mace_run_train/)
  evaluation/<model>/<test set>.*            one model on one test set
  md/<model>/<system>.h5                     an MD replica
  md_reference/<model>/<system>/*.extxyz     its frames relabelled with the reference method
  analysis/<source>/<system>/*.csv           the analysis of one trajectory
  repair/pools/<base>/<target>/*             frames a repair chooses from, and its committee's disagreement
  repair/models/<model>/*                    a repaired model's chosen frames and training frames
  repair/curves.csv, summary.csv, …          repair curves: error against frames at the target
  matrix/, cost/, tables/, figures/          the study's tables and figures
  logs/<rule>/…, benchmarks/<rule>/…         one per job
  manifest.json                              what the run was made from
  plan.csv                                   what the study asks of a SLURM allocation (`snakemake plan`)
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .reference.cp2k_output import AIMD_PROJECT, md_file_name

RESULTS = "results"
FIGURE_FORMATS = ("png", "pdf")  # the first is the one shown in `snakemake --report`
EVALUATION_SUFFIXES = {"errors": ".csv", "frames": ".frames.csv", "predictions": ".npz"}
ANALYSIS_TABLES = ("frames", "hbonds", "hbond_correlation", "rdf", "diffusion", "msd")


@dataclass(frozen=True)
class Layout:
    """The files of one run, under ``root`` (``results/<run_name>``)."""

    root: str

    @classmethod
    def of_run(cls, run_name: str) -> Layout:
        return cls(f"{RESULTS}/{run_name}")

    def _path(self, *parts: str) -> str:
        return "/".join((self.root, *parts))

    # --- jobs' logs and benchmarks: one file per job, named by its wildcards -------------------------

    @staticmethod
    def _job(wildcards: tuple[str, ...]) -> str:
        return "_".join(f"{{{w}}}" for w in wildcards) or "run"

    def log(self, rule: str, *wildcards: str) -> str:
        return self._path("logs", rule, f"{self._job(wildcards)}.log")

    def benchmark(self, rule: str, *wildcards: str) -> str:
        return self._path("benchmarks", rule, f"{self._job(wildcards)}.tsv")

    @property
    def manifest(self) -> str:
        return self._path("manifest.json")

    @property
    def plan(self) -> str:
        """Per stage: jobs, SLURM jobs, core- and GPU-hours requested (:mod:`mlip_transfer.plan`)."""
        return self._path("plan.csv")

    # --- reference data ------------------------------------------------------------------------------

    @property
    def cp2k_input_schema(self) -> str:
        return self._path("cp2k", "cp2k_input.xml")

    def box(self, system: str) -> str:
        return self._path("boxes", f"{system}.extxyz")

    def relaxed_box(self, system: str) -> str:
        return self._path("cp2k", "relax", system, "relaxed.extxyz")

    def isolated_atom_energy(self, element: str) -> str:
        return self._path("cp2k", "atoms", element, "energy_eV.txt")

    @property
    def e0s(self) -> str:
        return self._path("reference", "e0s_eV.json")

    def aimd_segment(self, system: str, segment: int | str, kind: str) -> str:
        """CP2K's ``positions``, ``forces``, ``energies`` or ``restart`` file of one AIMD segment."""
        return self._path("cp2k", "aimd", system, f"segment_{segment}", md_file_name(AIMD_PROJECT, kind))

    @staticmethod
    def output_folder(output: str) -> str:
        """The folder of a job's output, where CP2K leaves its own files (relaxation, isolated atoms)."""
        return str(Path(output).parent)

    @staticmethod
    def cp2k_work_dir(output: str) -> str:
        """Where CP2K works beside a job's output: not an output, so Snakemake never deletes it, and an
        interrupted AIMD segment continues there from its restart file."""
        return str(Path(output).parent / "run")

    # --- frames and training sets --------------------------------------------------------------------

    def frames(self, system: str) -> str:
        return self._path("frames", f"{system}.extxyz")

    def split(self, system: str, split: str) -> str:
        return self._path("splits", system, f"{split}.extxyz")

    def multi_concentration_split(self, model: str, split: str) -> str:
        return self._path("splits", "multi", model, f"{split}.extxyz")

    def frame_budget(self, system: str, frames: int | str) -> str:
        """The first ``frames`` frames of a training split (learning curves)."""
        return self._path("splits", "budgets", system, str(frames), "train.extxyz")

    def committee_resample(self, member: str) -> str:
        """A committee member's own bootstrap resample of its model's training frames."""
        return self._path("splits", "committee", member, "train.extxyz")

    # --- models and their errors ---------------------------------------------------------------------

    def model(self, model: str) -> str:
        return self._path("models", f"{model}.model")

    @staticmethod
    def training_work_dir(model_file: str) -> str:
        """mace_run_train's own folder of a model (checkpoints, logs): kept between attempts for resuming."""
        path = Path(model_file)
        return str(path.with_name(f"{path.stem}_mace_run_train"))

    def evaluation(self, model: str, test_set: str, kind: str) -> str:
        """``errors`` (CSV, one row), ``frames`` (CSV, per-frame errors) or ``predictions`` (NPZ)."""
        return self._path("evaluation", model, f"{test_set}{EVALUATION_SUFFIXES[kind]}")

    def matrix_table(self, name: str, suffix: str = ".csv") -> str:
        return self._path("matrix", f"{name}{suffix}")

    def cost_table(self, name: str) -> str:
        return self._path("cost", f"{name}.csv")

    def summary_table(self, name: str) -> str:
        return self._path("tables", f"{name}.csv")

    def figure(self, section: str, name: str) -> list[str]:
        """A figure in every format (``section``: matrix, cost, repair or figures)."""
        return [self._path(section, f"{name}.{fmt}") for fmt in FIGURE_FORMATS]

    # --- MD, its reference labels and the analysis ---------------------------------------------------

    def md(self, model: str, system: str) -> str:
        return self._path("md", model, f"{system}.h5")

    def md_reference(self, model: str, system: str, name: str) -> str:
        """``frames`` picked from an MD run, a labelled ``chunk_<k>`` of them, or the whole ``reference``."""
        return self._path("md_reference", model, system, f"{name}.extxyz")

    def md_reference_errors(self, model: str) -> str:
        """One model's per-frame errors on every run's relabelled frames."""
        return self._path("md_reference", "evaluation", f"{model}.frames.csv")

    def analysis_table(self, source: str, system: str, table: str) -> str:
        return self._path("analysis", source, system, f"{table}.csv")

    def stability(self, model: str, system: str) -> str:
        return self.analysis_table(model, system, "stability")

    # --- repairs -------------------------------------------------------------------------------------

    def repair_md_pool(self, base: str, target: str) -> str:
        """The frames of the base's own MD at the target after equilibration (an active-learning round's pool)."""
        return self._path("repair", "pools", base, target, "md.extxyz")

    def repair_pool(self, base: str, target: str, source: str) -> str:
        """Per frame of a pool: step, time and the base's committee disagreement."""
        return self._path("repair", "pools", base, target, f"{source}.csv")

    def repair_frames(self, model: str, name: str) -> str:
        """A repaired model's ``selected`` frames, their ``labelled`` copy (MD pools) or its ``train`` frames."""
        return self._path("repair", "models", model, f"{name}.extxyz")

    def repair_selection(self, model: str) -> str:
        """The pool frames a repaired model was given, with their time and committee disagreement."""
        return self._path("repair", "models", model, "selected.csv")

    def repair_table(self, name: str) -> str:
        return self._path("repair", f"{name}.csv")


# --- a job's inputs named by run id ------------------------------------------------------------------
# A rule that gathers many runs' files names each "<group>/<run id>" (run ids: mlip_transfer.names.run_id),
# and its script takes them back by group: no list of inputs is ever paired with another list by position.


def named(group: str, paths: Mapping[str, str]) -> dict[str, str]:
    """``{"<group>/<run id>": path}``: one group of a rule's named inputs, from ``{run id: path}``."""
    return {f"{group}/{run}": path for run, path in paths.items()}


def group(inputs: Mapping[str, str] | object, name: str) -> dict[str, str]:
    """``{run id: path}`` of one group of a job's named inputs (:func:`named`), in the rule's order.
    ``inputs``: Snakemake's ``snakemake.input`` (or any mapping)."""
    prefix = f"{name}/"
    keys = inputs.keys()
    return {key.removeprefix(prefix): str(inputs[key]) for key in keys if key.startswith(prefix)}
