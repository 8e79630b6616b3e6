"""The study a config describes, derived once: its systems, models and MD runs, and what each job depends on.

The workflow (``workflow/rules/common.smk``) and the config checks (:mod:`mlip_transfer.validation`)
both read the study from :class:`Study`; nothing else derives compositions, molarities, model names or
MD runs from the config.

Each ``*_settings`` method returns exactly the values one job's result depends on, as a rule's
``params``. Snakemake reruns a job whose params changed (it compares their ``repr``), so the values
are plain builtins with dict keys sorted (:func:`canonical`): a config rewritten with its keys in
another order reruns nothing. How a job runs (threads, the CP2K launcher, the device, cuEquivariance
kernels, SLURM resources) is never part of them: the scripts read it from the config itself.

The config is expected to be validated against ``config/schema.yaml`` first (which fills in defaults).
Units: as in the config's key names (Å, fs, ps, K, mol/L).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from .box import Composition, composition_for_molarity, composition_molarity, cubic_box_length_A

FOUNDATION = "foundation"
AIMD_SOURCE = "AIMD"  # the analysed "source" of the ab initio reference, beside model names
FINE_TUNE_PREFIX = "ft_"  # the fine-tune of one concentration: "ft_<label>"
SEED_SEPARATOR = ".seed"  # committee members: "<model>.seed<n>"
FRAMES_SEPARATOR = ".frames"  # learning-curve fine-tunes on a subset of the training frames: "<model>.frames<n>"


def fine_tune_name(label: str) -> str:
    """The model fine-tuned on one concentration's frames alone."""
    return f"{FINE_TUNE_PREFIX}{label}"


def without_seed(name: str) -> str:
    """The model a committee member belongs to ("ft_c6_26.seed3" → "ft_c6_26"); other names unchanged."""
    return name.partition(SEED_SEPARATOR)[0]


class Variant(NamedTuple):
    """What a trained model's name says: the model, its training seed, and its number of training frames
    (None: all of its training split)."""

    model: str
    seed: int
    frames: int | None


def canonical(value):
    """``value`` with every mapping's keys sorted, recursively, and tuples as lists: one ``repr`` per content."""
    if isinstance(value, Mapping):
        return {key: canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list | tuple):
        return [canonical(item) for item in value]
    return value


@dataclass(frozen=True)
class System:
    """One simulated box: a concentration of the study or the pretraining box of a demo foundation model.

    ``key`` is where it is written in the config (for error messages); ``box_length_A`` is the configured
    edge or None (then it follows from the density correlation); ``stated_molarity_mol_per_L`` is the
    configured molarity, if any.
    """

    label: str
    key: str
    composition: Composition
    temperature_K: float
    box_length_A: float | None = None
    stated_molarity_mol_per_L: float | None = None
    explicit_composition: bool = False  # n_koh + n_water given, rather than chosen for a molarity

    @classmethod
    def from_config(cls, entry: Mapping, key: str, default_temperature_K: float) -> System:
        if "n_koh" in entry:
            composition = Composition(entry["n_koh"], entry["n_water"])
        else:
            with warnings.catch_warnings():  # range warnings belong to the box builder's log
                warnings.simplefilter("ignore")
                composition = composition_for_molarity(entry["molarity_mol_per_L"], entry["n_oxygen"])
        return cls(
            label=entry["label"],
            key=key,
            composition=composition,
            temperature_K=entry.get("temperature_K", default_temperature_K),
            box_length_A=entry.get("box_length_A"),
            stated_molarity_mol_per_L=entry.get("molarity_mol_per_L"),
            explicit_composition="n_koh" in entry,
        )

    @property
    def composition_molarity_mol_per_L(self) -> float:
        """Molarity of the composition at the correlated density."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return composition_molarity(self.composition)

    @property
    def molarity_mol_per_L(self) -> float:
        """Nominal molarity: the configured one, else the composition's at the correlated density."""
        return self.stated_molarity_mol_per_L or self.composition_molarity_mol_per_L

    @property
    def cubic_box_length_A(self) -> float:
        """Edge of the cubic box: the configured one, else from the density correlation."""
        if self.box_length_A:
            return self.box_length_A
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return cubic_box_length_A(self.composition)


class Study:
    """Systems, models and MD runs of a (validated) config, and the settings each job depends on."""

    def __init__(self, config: Mapping):
        self.config = config
        temperature = config["temperature_K"]
        self.concentrations: dict[str, System] = {
            c["label"]: System.from_config(c, f"concentrations[{i}]", temperature)
            for i, c in enumerate(config["concentrations"])
        }
        pretrain = config["foundation_model"].get("pretrain")
        self.pretrain: System | None = (
            System.from_config(pretrain["system"], "foundation_model.pretrain.system", temperature)
            if pretrain
            else None
        )
        self.systems: dict[str, System] = {
            **self.concentrations,
            **({self.pretrain.label: self.pretrain} if self.pretrain else {}),
        }
        self.fine_tuned: dict[str, str] = {fine_tune_name(label): label for label in self.concentrations}
        self.multi_models: dict[str, list[str]] = {
            m["name"]: list(m["concentrations"]) for m in config["training"]["multi_concentration_models"]
        }
        self.models: list[str] = [FOUNDATION, *self.fine_tuned, *self.multi_models]
        # One fine-tune per seed: the first seed's is the study's model (MD, parity plots); the others, named
        # "<model>.seed<n>", form its committee (uncertainty over initialisation and shuffling).
        self.seeds: list[int] = list(config["training"]["seeds"] or [config["seed"]])
        self.committee_members: list[str] = [
            f"{model}{SEED_SEPARATOR}{seed}" for model in self.models[1:] for seed in self.seeds[1:]
        ]
        # Learning curves: fine-tunes of selected concentrations on nested subsets of their training frames.
        budgets = config["training"]["frame_budgets"] or {"concentrations": [], "frames": []}
        self.frame_budget_concentrations: list[str] = list(budgets["concentrations"])
        self.frame_budget_models: list[str] = [
            f"{fine_tune_name(label)}{FRAMES_SEPARATOR}{n}"
            for label in budgets["concentrations"]
            for n in budgets["frames"]
        ]
        self.md_runs: list[tuple[str, str]] = [
            (model, label) for model in config["md"]["models"] for label in config["md"]["concentrations"]
        ]
        aimd = config["cp2k"]["aimd"]
        # A production AIMD does not fit one job's walltime: it runs as equal segments of at most
        # `segment_steps` MD steps, each continuing from the restart file of the one before.
        self.aimd_segments: int = -(-aimd["steps"] // aimd.get("segment_steps", aimd["steps"]))

    # --- derived quantities -------------------------------------------------------------------------

    def molarities(self) -> dict[str, float]:
        """Nominal molarity (mol/L) of each concentration label, in label order."""
        return {label: self.concentrations[label].molarity_mol_per_L for label in sorted(self.concentrations)}

    def temperatures_K(self) -> dict[str, float]:
        return {label: self.concentrations[label].temperature_K for label in sorted(self.concentrations)}

    def training_concentrations(self, model: str) -> list[str]:
        """Concentration labels whose frames a fine-tuned model is trained on."""
        if model in self.fine_tuned:
            return [self.fine_tuned[model]]
        if model in self.multi_models:
            return self.multi_models[model]
        raise KeyError(f"unknown fine-tuned model {model!r}; fine-tuned models are {self.models[1:]}")

    def variant(self, name: str) -> Variant:
        """Model, seed and training frames of a trained model's name: "ft_c6_26" (the first seed, all
        frames), "ft_c6_26.seed3" (a committee member) or "ft_c6_26.frames100" (a learning-curve point)."""
        seed = name.partition(SEED_SEPARATOR)[2]
        model, _, frames = without_seed(name).partition(FRAMES_SEPARATOR)
        return Variant(model, int(seed) if seed else self.seeds[0], int(frames) if frames else None)

    def training_map(self) -> dict[str, list[str]]:
        """Training concentrations of every fine-tuned model (the foundation model has none here)."""
        return {model: self.training_concentrations(model) for model in self.models if model != FOUNDATION}

    def analysed_runs(self) -> list[tuple[str, str]]:
        """(source, concentration) pairs analysed: every MD run, then the AIMD reference of each concentration."""
        return [*self.md_runs, *((AIMD_SOURCE, label) for label in self.concentrations)]

    def aimd_segment_end_step(self, segment: int) -> int:
        """The MD step an AIMD segment runs up to."""
        return (segment + 1) * self.config["cp2k"]["aimd"]["steps"] // self.aimd_segments

    # --- what each job's result depends on (rule params) --------------------------------------------

    def box_settings(self, system: str) -> dict:
        s = self.systems[system]
        return {
            "n_koh": s.composition.n_koh,
            "n_water": s.composition.n_water,
            "box_length_A": s.box_length_A,
            "seed": self.config["seed"],
        }

    def electronic_structure(self) -> dict:
        """The CP2K method (xTB or the DFT settings): every CP2K result depends on it."""
        cp2k = self.config["cp2k"]
        return canonical({"method": cp2k["method"], **({"dft": cp2k["dft"]} if cp2k["method"] == "dft" else {})})

    def aimd_settings(self, system: str, segment: int) -> dict:
        aimd = self.config["cp2k"]["aimd"]
        return {
            "end_step": self.aimd_segment_end_step(segment),
            "timestep_fs": aimd["timestep_fs"],
            "temperature_K": self.systems[system].temperature_K,
            "thermostat_time_constant_fs": aimd["thermostat_time_constant_fs"],
            "print_every": aimd["print_every"],
            "seed": self.config["seed"],
        }

    def training_settings(self, hyperparameters: Mapping, seed: int) -> dict:
        """mace_run_train settings that shape the model: its hyperparameters, precision and seed."""
        training = self.config["training"]
        return {
            "hyperparameters": canonical(hyperparameters),
            "default_dtype": training["default_dtype"],
            "seed": seed,
        }

    def md_settings(self, system: str) -> dict:
        """One MD run's integrator and thermostat; not the list of other runs, nor how it runs."""
        md = self.config["md"]
        return canonical(
            {
                "engine": md["engine"],  # a different integrator and random stream: another trajectory
                "steps": md["steps"],
                "timestep_fs": md["timestep_fs"],
                "write_interval": md["write_interval"],
                "thermostat": md["thermostat"],
                "temperature_K": self.systems[system].temperature_K,
                "seed": self.config["seed"],
                "default_dtype": md["default_dtype"],
            }
        )

    def analysis_settings(self, source: str, system: str) -> dict:
        """One trajectory's analysis: criteria, bins, blocks, and the timing of its frames.

        AIMD frames had their equilibration dropped when they were extracted and are shorter than MD:
        they have their own fit window and skip nothing.
        """
        a = self.config["analysis"]
        if source == AIMD_SOURCE:
            aimd = self.config["cp2k"]["aimd"]
            interval_ps = aimd["timestep_fs"] * aimd["print_every"] / 1000.0
            skip_frames, window = 0, a["aimd_diffusion_window_ps"]
        else:
            md = self.config["md"]
            interval_ps = md["timestep_fs"] * md["write_interval"] / 1000.0
            skip_frames, window = round(a["equilibration_ps"] / interval_ps), a["diffusion_window_ps"]
        return canonical(
            {
                "criterion": {
                    key: a[key]
                    for key in (
                        "donor_acceptor_cutoff_A",
                        "angle_cutoff_deg",
                        "hydrogen_acceptor_cutoff_A",
                        "donor_hydrogen_acceptor_min_angle_deg",
                    )
                },
                "frame_interval_ps": interval_ps,
                "skip_frames": skip_frames,
                "diffusion_window_ps": window,
                "min_diffusion_window_ps": a["min_diffusion_window_ps"],
                "diffusion_blocks": a["diffusion_blocks"],
                "rdf_bin_width_A": a["rdf_bin_width_A"],
                "k_o_cutoff_A": a["k_o_cutoff_A"],
                "proton_transfer_persistence_ps": a["proton_transfer_persistence_ps"],
                "hbond_lifetime_max_ps": a["hbond_lifetime_max_ps"],
                "temperature_K": self.systems[system].temperature_K,
                "viscosity_mPa_s": a["viscosity_mPa_s"].get(system),
            }
        )
