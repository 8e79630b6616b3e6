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
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib.resources import files
from typing import NamedTuple

import numpy as np
import yaml

from . import names
from .chemistry import ChemistryError, Hydroxide
from .reference.box import (
    BoxError,
    Composition,
    box_molarity_mol_per_L,
    composition_for_molarity,
    composition_molarity,
    cubic_box_length_A,
)
from .reference.splits import split_counts

TEST_SEED_OFFSET = 1  # the test AIMD's box and velocities: seed + 1


class Variant(NamedTuple):
    """What a trained model's name says (:class:`~mlip_transfer.names.ModelName`), with the seed resolved:
    the model, its training seed, and its number of training frames (None: all of its training split)."""

    model: str
    seed: int
    frames: int | None


@cache
def fine_tune_protocols() -> dict:
    """The named fine-tuning protocols (``data/fine_tune_protocols.yaml``), each with its source."""
    return yaml.safe_load(files("mlip_transfer").joinpath("data/fine_tune_protocols.yaml").read_text())


def replica_seed(seed: int, label: str, replica: int) -> int:
    """The seed of one MD replica: a function of the run's seed, the concentration's label and the replica only."""
    return int(np.random.SeedSequence([seed, zlib.crc32(label.encode()), replica]).generate_state(1)[0])


def canonical(value):
    """``value`` with every mapping's keys sorted, recursively, and tuples as lists: one ``repr`` per content."""
    if isinstance(value, Mapping):
        return {key: canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list | tuple):
        return [canonical(item) for item in value]
    return value


@dataclass(frozen=True)
class System:
    """One simulated box and its AIMD: a concentration of the study, its independent test trajectory, or the
    pretraining box of a demo foundation model.

    ``key`` is where it is written in the config (for error messages); ``box_length_A`` is the configured
    edge or None (then it follows from the density correlation); ``stated_molarity_mol_per_L`` is the
    configured molarity, if any (the label's); ``seed`` seeds the packing and the AIMD's velocities.
    """

    label: str
    key: str
    composition: Composition
    temperature_K: float
    seed: int
    aimd_steps: int
    equilibration_steps: int
    box_length_A: float | None = None
    stated_molarity_mol_per_L: float | None = None
    explicit_composition: bool = False  # n_hydroxide + n_water given, rather than chosen for a molarity

    @classmethod
    def from_config(cls, entry: Mapping, key: str, config: Mapping) -> System:
        cation = config["cation"]
        if "n_hydroxide" in entry:
            composition = Composition(entry["n_hydroxide"], entry["n_water"], cation)
        else:
            search = config["composition_search"]
            with warnings.catch_warnings():  # range warnings belong to the box builder's log
                warnings.simplefilter("ignore")
                try:
                    composition = composition_for_molarity(
                        entry["molarity_mol_per_L"],
                        entry["n_oxygen"],
                        search["oxygen_window"],
                        search["molarity_tolerance"],
                        cation,
                    )
                except (BoxError, ChemistryError) as error:  # no box near it, or no density to say
                    raise BoxError(f"config key '{key}.molarity_mol_per_L': {error}") from error
        aimd = config["cp2k"]["aimd"]
        return cls(
            label=entry["label"],
            key=key,
            composition=composition,
            temperature_K=entry.get("temperature_K", config["temperature_K"]),
            seed=config["seed"],
            aimd_steps=aimd["steps"],
            equilibration_steps=aimd["equilibration_steps"],
            box_length_A=entry.get("box_length_A"),
            stated_molarity_mol_per_L=entry.get("molarity_mol_per_L"),
            explicit_composition="n_hydroxide" in entry,
        )

    @property
    def composition_molarity_mol_per_L(self) -> float:
        """Molarity of the composition at the correlated density."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return composition_molarity(self.composition)

    @property
    def molarity_mol_per_L(self) -> float:
        """The box's own molarity: its hydroxide per volume (not the label's)."""
        return box_molarity_mol_per_L(self.composition, self.cubic_box_length_A)

    @property
    def molality_mol_per_kg(self) -> float:
        return self.composition.molality_mol_per_kg

    @property
    def cubic_box_length_A(self) -> float:
        """Edge of the cubic box: the configured one, else from the density correlation."""
        if self.box_length_A:
            return self.box_length_A
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return cubic_box_length_A(self.composition)

    def n_frames(self, print_every: int) -> int:
        """Frames its AIMD gives after equilibration (CP2K prints steps 0, k, 2k, …)."""
        return self.aimd_steps // print_every + (-self.equilibration_steps) // print_every + 1


class Study:
    """Systems, models and MD runs of a (validated) config, and the settings each job depends on."""

    def __init__(self, config: Mapping):
        self.config = config
        self.hydroxide = Hydroxide(config["cation"])  # the solution's chemistry: elements, masses, data
        self.concentrations: dict[str, System] = {
            c["label"]: System.from_config(c, f"concentrations[{i}]", config)
            for i, c in enumerate(config["concentrations"])
        }
        pretrain = config["foundation_model"].get("pretrain")
        self.pretrain: System | None = (
            System.from_config(pretrain["system"], "foundation_model.pretrain.system", config) if pretrain else None
        )
        # Every concentration's test set: its own AIMD (another box and seed, same method), or, without
        # test_trajectory, the last time block of its training AIMD.
        test = config["test_trajectory"]
        self.test_trajectories: dict[str, System] = (
            {
                label: replace(
                    system,
                    label=names.test_trajectory(label),
                    key="test_trajectory",
                    seed=system.seed + TEST_SEED_OFFSET,
                    aimd_steps=test["steps"],
                    equilibration_steps=test["equilibration_steps"],
                )
                for label, system in self.concentrations.items()
            }
            if test
            else {}
        )
        self.systems: dict[str, System] = {
            **self.concentrations,
            **{s.label: s for s in self.test_trajectories.values()},
            **({self.pretrain.label: self.pretrain} if self.pretrain else {}),
        }
        # the time-block splits of each training AIMD (a test block unless split.test is 0)
        self.splits: list[str] = [s for s in ("train", "valid", "test") if config["split"][s] > 0]
        # with an independent test AIMD, the in-trajectory test block (if any) only measures what it flatters
        self.in_trajectory_test_sets: list[str] = (
            [names.in_trajectory_test_set(label) for label in self.concentrations]
            if self.test_trajectories and "test" in self.splits
            else []
        )
        self.fine_tuned: dict[str, str] = {names.fine_tune(label): label for label in self.concentrations}
        self.multi_models: dict[str, list[str]] = {
            m["name"]: list(m["concentrations"]) for m in config["training"]["multi_concentration_models"]
        }
        self.models: list[str] = [names.FOUNDATION, *self.fine_tuned, *self.multi_models]
        # One fine-tune per seed: the first seed's is the study's model (MD, parity plots); the others, named
        # "<model>.seed<n>", form its committee (uncertainty over initialisation and shuffling).
        self.seeds: list[int] = list(config["training"]["seeds"] or [config["seed"]])
        self.committee_members: list[str] = [
            names.committee_member(model, seed) for model in self.models[1:] for seed in self.seeds[1:]
        ]
        # Learning curves: fine-tunes of selected concentrations on the first n frames of their training blocks.
        budgets = config["training"]["frame_budgets"] or {"concentrations": [], "frames": []}
        self.frame_budget_concentrations: list[str] = list(budgets["concentrations"])
        self.frame_budget_models: list[str] = [
            names.frame_budget(names.fine_tune(label), n)
            for label in budgets["concentrations"]
            for n in budgets["frames"]
        ]
        # MD: every selected model at every selected concentration, md.replicas times (own start and seeds)
        self.replicas: int = config["md"]["replicas"]
        self.md_runs: list[tuple[str, str]] = [
            (model, names.md_replica(label, k))
            for model in config["md"]["models"]
            for label in config["md"]["concentrations"]
            for k in range(self.replicas)
        ]
        # The reference method on each MD run's first replica (md_reference), in chunks of frames per job
        reference = config["md_reference"]
        self.md_reference_runs: list[tuple[str, str]] = (
            [(model, system) for model, system in self.md_runs if names.replica_of(system)[1] == 0] if reference else []
        )
        self.md_reference_chunks: int = -(-reference["frames"] // reference["frames_per_job"]) if reference else 0

    # --- the study's lists of runs ----------------------------------------------------------------------

    @property
    def seeded_fine_tunes(self) -> list[str]:
        """Every fine-tuned model for every training seed: the study's models and their committees."""
        return [*(m for m in self.models if m != names.FOUNDATION), *self.committee_members]

    @property
    def all_fine_tunes(self) -> list[str]:
        """Every fine-tune the study trains: all seeds and the learning curves' subsets of training frames."""
        return [*self.seeded_fine_tunes, *self.frame_budget_models]

    @property
    def evaluated_models(self) -> list[str]:
        """Every model judged on every concentration's test set: the foundation model and every fine-tune."""
        return [names.FOUNDATION, *self.all_fine_tunes]

    @property
    def learning_curve_ends(self) -> list[str]:
        """The fine-tunes on all training frames at the end of each learning curve."""
        return [names.fine_tune(label) for label in self.frame_budget_concentrations]

    @property
    def committee_runs(self) -> list[tuple[str, str]]:
        """(member, test set) of every seed's fine-tune on every concentration's test set."""
        return [(member, label) for member in self.seeded_fine_tunes for label in self.concentrations]

    @property
    def md_systems(self) -> list[str]:
        """Every MD replica's system ("<label>.r<k>"), the same for every MD model."""
        return list(dict.fromkeys(system for _, system in self.md_runs))

    def resampled(self, model: str) -> bool:
        """Whether a fine-tune trains on its own bootstrap resample of its model's frames (a committee member
        under training.committee_training_frames: bootstrap)."""
        bootstrap = self.config["training"]["committee_training_frames"] == "bootstrap"
        return bootstrap and self.variant(model).seed != self.seeds[0]

    @property
    def committee_members_differ_in(self) -> str:
        if self.config["training"]["committee_training_frames"] == "bootstrap":
            return "seed and bootstrap-resampled training frames"
        return "seed (initialisation and shuffling)"

    # --- derived quantities -------------------------------------------------------------------------

    def molarities(self) -> dict[str, float]:
        """The box's own molarity (mol/L) of each concentration label, in label order: every axis and |Δc|."""
        return {label: self.concentrations[label].molarity_mol_per_L for label in sorted(self.concentrations)}

    def concentration_table(self) -> list[dict]:
        """Per concentration: the label's stated molarity beside the box's own molarity and molality."""
        return [
            {
                "concentration": label,
                "stated_molarity_mol_per_L": s.stated_molarity_mol_per_L,
                "molarity_mol_per_L": s.molarity_mol_per_L,
                "molality_mol_per_kg": s.molality_mol_per_kg,
                "n_hydroxide": s.composition.n_hydroxide,
                "n_water": s.composition.n_water,
                "box_length_A": s.cubic_box_length_A,
            }
            for label, s in self.concentrations.items()
        ]

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
        parsed = names.ModelName.parse(name)
        return Variant(parsed.model, self.seeds[0] if parsed.seed is None else parsed.seed, parsed.frames)

    def training_map(self) -> dict[str, list[str]]:
        """Training concentrations of every fine-tuned model (the foundation model has none here)."""
        return {model: self.training_concentrations(model) for model in self.models if model != names.FOUNDATION}

    def analysed_runs(self) -> list[tuple[str, str]]:
        """(source, concentration) pairs analysed: every MD run, then the AIMD reference of each concentration."""
        return [*self.md_runs, *((names.AIMD_SOURCE, label) for label in self.concentrations)]

    def aimd_segments(self, system: str) -> int:
        """A production AIMD does not fit one job's walltime: it runs as equal segments of at most
        `segment_steps` MD steps, each continuing from the restart file of the one before."""
        steps = self.systems[system].aimd_steps
        return -(-steps // self.config["cp2k"]["aimd"].get("segment_steps", steps))

    def aimd_segment_end_step(self, system: str, segment: int) -> int:
        """The MD step an AIMD segment runs up to."""
        return (segment + 1) * self.systems[system].aimd_steps // self.aimd_segments(system)

    def test_set_source(self, test_set: str) -> tuple[str, str]:
        """(system, kind) of a test set's frames: a concentration label → its independent test AIMD
        ("trajectory") or its training AIMD's test block ("block"); "<label>.block" → that block."""
        label, block = names.test_set_concentration(test_set)
        if label not in self.concentrations:
            raise KeyError(f"unknown test set {test_set!r}")
        if label in self.test_trajectories and not block:
            return self.test_trajectories[label].label, "trajectory"
        return label, "block"

    def in_trajectory_runs(self) -> list[tuple[str, str]]:
        """(fine-tune or committee member, "<label>.block"): each concentration's fine-tunes on the test block
        of their own training AIMD, beside an independent test AIMD (what sharing a trajectory flatters)."""
        return [
            (member, test_set)
            for test_set in self.in_trajectory_test_sets
            for member in self.members_of(names.fine_tune(names.test_set_concentration(test_set)[0]))
        ]

    def members_of(self, model: str) -> list[str]:
        """A model's fine-tunes: the study's (first seed) and its committee members."""
        return [model, *(m for m in self.committee_members if names.without_seed(m) == model)]

    def training_frames(self, model: str) -> int:
        """Training frames of a single-concentration fine-tune or learning-curve point."""
        name, _, frames = self.variant(model)
        return frames or self.split_sizes(self.training_concentrations(name)[0])["train"]

    def cost_systems(self) -> dict[str, dict]:
        """The AIMD runs the study pays for (every concentration's training and test AIMD; the foundation
        model's is shared by every model and not counted): concentration, kind, the share of its steps that
        is equilibration, and the frames it gives."""
        print_every = self.config["cp2k"]["aimd"]["print_every"]
        runs = {label: (label, "training", s) for label, s in self.concentrations.items()}
        runs.update({s.label: (label, "test", s) for label, s in self.test_trajectories.items()})
        return {
            name: {
                "concentration": label,
                "kind": kind,
                "equilibration_fraction": s.equilibration_steps / s.aimd_steps,
                "frames": s.n_frames(print_every),
            }
            for name, (label, kind, s) in runs.items()
        }

    def md_reference_chunk(self, chunk: int) -> list[int]:
        """The selected MD frames one reference-labelling job computes (indices into the run's selection)."""
        reference = self.config["md_reference"]
        start = chunk * reference["frames_per_job"]
        return list(range(start, min(start + reference["frames_per_job"], reference["frames"])))

    def split_sizes(self, system: str) -> dict[str, int]:
        """Frames of each time-block split of a system's AIMD."""
        split = self.config["split"]
        n = self.systems[system].n_frames(self.config["cp2k"]["aimd"]["print_every"])
        return split_counts(n, {s: split[s] for s in ("train", "valid", "test")}, split["gap_frames"])

    def frames_used(self, model: str) -> dict[str, int]:
        """Training plus validation frames a fine-tuned model (any seed) takes from each concentration's AIMD:
        a fine-tune all of its train and valid blocks; a learning-curve point the first n training frames
        and the valid block; a multi-concentration mix an equal share of the single fine-tune's budget."""
        name, _, frames = self.variant(model)
        labels = self.training_concentrations(name)
        sizes = {label: self.split_sizes(label) for label in labels}
        if len(labels) == 1:
            label = labels[0]
            return {label: (frames or sizes[label]["train"]) + sizes[label]["valid"]}
        train_budget, valid_budget = sizes[labels[0]]["train"], min(s["valid"] for s in sizes.values())
        share = {
            label: train_budget // len(labels) + (i < train_budget % len(labels)) for i, label in enumerate(labels)
        }
        valid = {
            label: valid_budget // len(labels) + (i < valid_budget % len(labels)) for i, label in enumerate(labels)
        }
        return {label: share[label] + valid[label] for label in labels}

    # --- what each job's result depends on (rule params) --------------------------------------------

    def box_settings(self, system: str) -> dict:
        s = self.systems[system]
        return {
            "cation": s.composition.cation,
            "n_hydroxide": s.composition.n_hydroxide,
            "n_water": s.composition.n_water,
            "box_length_A": s.box_length_A,
            "seed": s.seed,
        }

    def electronic_structure(self) -> dict:
        """The CP2K method (xTB or the DFT settings): every CP2K result depends on it."""
        cp2k = self.config["cp2k"]
        return canonical({"method": cp2k["method"], **({"dft": cp2k["dft"]} if cp2k["method"] == "dft" else {})})

    def aimd_settings(self, system: str, segment: int) -> dict:
        aimd = self.config["cp2k"]["aimd"]
        return {
            "end_step": self.aimd_segment_end_step(system, segment),
            "timestep_fs": aimd["timestep_fs"],
            "temperature_K": self.systems[system].temperature_K,
            "thermostat_time_constant_fs": aimd["thermostat_time_constant_fs"],
            "print_every": aimd["print_every"],
            "seed": self.systems[system].seed,
        }

    def fine_tune_hyperparameters(self) -> dict:
        """mace_run_train settings of every fine-tune: the protocol's (training.protocol), overridden key by
        key by training.fine_tune, and whether it is a multihead fine-tune with replay data."""
        training = self.config["training"]
        protocol = fine_tune_protocols()[training["protocol"]]
        return {**protocol["hyperparameters"], **training["fine_tune"], "multiheads_finetuning": protocol["multihead"]}

    def training_settings(self, hyperparameters: Mapping, seed: int) -> dict:
        """mace_run_train settings that shape the model: its hyperparameters, precision and seed."""
        training = self.config["training"]
        return {
            "hyperparameters": canonical(hyperparameters),
            "default_dtype": training["default_dtype"],
            "seed": seed,
        }

    def pretraining_settings(self) -> dict:
        """mace_run_train settings of a demo foundation model pretrained here (foundation_model.pretrain)."""
        return self.training_settings(
            self.config["foundation_model"]["pretrain"]["hyperparameters"], self.config["seed"]
        )

    def md_settings(self, system: str) -> dict:
        """One MD replica's start, integrator, thermostat and seed; not the list of other runs, nor how it runs.

        Replica k starts from the AIMD frame k × ``md.replica_spacing_ps`` before the last one, with velocities
        and thermostat noise from its own seed (from the run's seed, the label and k, so that adding a
        concentration or a replica changes no other run)."""
        md = self.config["md"]
        label, replica = names.replica_of(system)
        aimd = self.config["cp2k"]["aimd"]
        frame_ps = aimd["timestep_fs"] * aimd["print_every"] / 1000.0
        return canonical(
            {
                "engine": md["engine"],  # a different integrator and random stream: another trajectory
                "steps": md["steps"],
                "timestep_fs": md["timestep_fs"],
                "write_interval": md["write_interval"],
                "thermostat": md["thermostat"],
                "temperature_K": self.systems[label].temperature_K,
                "start_frame": -1 - round(replica * md["replica_spacing_ps"] / frame_ps),
                "seed": replica_seed(self.config["seed"], label, replica),
                "default_dtype": md["default_dtype"],
            }
        )

    def analysis_settings(self, source: str, system: str) -> dict:
        """One trajectory's analysis: criteria, bins, blocks, and the timing of its frames.

        AIMD frames had their equilibration dropped when they were extracted and are shorter than MD:
        they have their own fit window and skip nothing.
        """
        a = self.config["analysis"]
        label = names.replica_of(system)[0]
        if source == names.AIMD_SOURCE:
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
                "cation": self.config["cation"],
                "cation_o_cutoff_A": a["cation_o_cutoff_A"],
                "proton_transfer_persistence_ps": a["proton_transfer_persistence_ps"],
                "hbond_lifetime_max_ps": a["hbond_lifetime_max_ps"],
                "max_defect_mismatch_fraction": a["max_defect_mismatch_fraction"],
                "temperature_K": self.systems[label].temperature_K,
                "viscosity_mPa_s": a["viscosity_mPa_s"].get(label),
            }
        )
