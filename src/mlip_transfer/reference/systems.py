"""The study's boxes and their AIMD (reference stage): every concentration's training AIMD, its independent
test AIMD, and the pretraining box of a demo foundation model, with what each box and AIMD job depends on.

Built once from a validated config (``config/schema.yaml`` fills in the defaults). Units: as in the config's
key names (Å, fs, K, mol/L).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace

from .. import names
from ..chemistry import ChemistryError
from ..settings import canonical
from ..units import frame_interval_ps
from .box import BoxError, Composition, box_molarity_mol_per_L, composition_for_molarity, cubic_box_length_A
from .splits import split_counts

TEST_SEED_OFFSET = 1  # the test AIMD's box and velocities: seed + 1
SPLITS = ("train", "valid", "test")


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
        aimd = config["cp2k"]["aimd"]
        return cls(
            label=entry["label"],
            key=key,
            composition=_composition(entry, key, config),
            temperature_K=entry.get("temperature_K", config["temperature_K"]),
            seed=config["seed"],
            aimd_steps=aimd["steps"],
            equilibration_steps=aimd["equilibration_steps"],
            box_length_A=entry.get("box_length_A"),
            stated_molarity_mol_per_L=entry.get("molarity_mol_per_L"),
            explicit_composition="n_hydroxide" in entry,
        )

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


def _composition(entry: Mapping, key: str, config: Mapping) -> Composition:
    """A config entry's composition: given (n_hydroxide, n_water), or the box nearest its molarity."""
    cation = config["cation"]
    if "n_hydroxide" in entry:
        return Composition(entry["n_hydroxide"], entry["n_water"], cation)
    search = config["composition_search"]
    with warnings.catch_warnings():  # range warnings belong to the box builder's log
        warnings.simplefilter("ignore")
        try:
            return composition_for_molarity(
                entry["molarity_mol_per_L"],
                entry["n_oxygen"],
                cation=cation,
                oxygen_window=search["oxygen_window"],
                tolerance=search["molarity_tolerance"],
            )
        except (BoxError, ChemistryError) as error:  # no box near it, or no density to say
            raise BoxError(f"config key '{key}.molarity_mol_per_L': {error}") from error


class ReferenceCatalogue:
    """The boxes and AIMD runs of a study, their time-block splits, and the settings of each box and AIMD job."""

    def __init__(self, config: Mapping):
        self.config = config
        self.cp2k, self.aimd, self.split = config["cp2k"], config["cp2k"]["aimd"], config["split"]
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
        self.test_trajectories: dict[str, System] = self._test_trajectories(config["test_trajectory"])
        self.systems: dict[str, System] = {
            **self.concentrations,
            **{s.label: s for s in self.test_trajectories.values()},
            **({self.pretrain.label: self.pretrain} if self.pretrain else {}),
        }
        # the time-block splits of each training AIMD (a test block unless split.test is 0)
        self.splits: list[str] = [s for s in SPLITS if self.split[s] > 0]
        # with an independent test AIMD, the in-trajectory test block (if any) only measures what it flatters
        self.in_trajectory_test_sets: list[str] = (
            [names.in_trajectory_test_set(label) for label in self.concentrations]
            if self.test_trajectories and "test" in self.splits
            else []
        )

    def _test_trajectories(self, test: Mapping | None) -> dict[str, System]:
        if not test:
            return {}
        return {
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

    @property
    def given_e0s_eV(self) -> dict[str, float] | None:
        """The isolated-atom energies given in the config (reference_energies), by element, or None: computed."""
        given = self.config["reference_energies"]
        return canonical(given["e0s_eV"]) if given else None

    @property
    def frame_interval_ps(self) -> float:
        """Time between the AIMD's printed frames."""
        return frame_interval_ps(self.aimd["timestep_fs"], self.aimd["print_every"])

    def molarities(self) -> dict[str, float]:
        """The box's own molarity (mol/L) of each concentration label, in label order: every axis and |Δc|."""
        return {label: self.concentrations[label].molarity_mol_per_L for label in sorted(self.concentrations)}

    def temperatures_K(self) -> dict[str, float]:
        return {label: self.concentrations[label].temperature_K for label in sorted(self.concentrations)}

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

    def aimd_segments(self, system: str) -> int:
        """A production AIMD does not fit one job's walltime: it runs as equal segments of at most
        `segment_steps` MD steps, each continuing from the restart file of the one before."""
        steps = self.systems[system].aimd_steps
        return -(-steps // self.aimd.get("segment_steps", steps))

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

    def split_sizes(self, system: str) -> dict[str, int]:
        """Frames of each time-block split of a system's AIMD."""
        n = self.systems[system].n_frames(self.aimd["print_every"])
        return split_counts(n, {s: self.split[s] for s in SPLITS}, self.split["gap_frames"])

    def cost_systems(self) -> dict[str, dict]:
        """The AIMD runs the study pays for (every concentration's training and test AIMD; the foundation
        model's is shared by every model and not counted): concentration, kind, the share of its steps that
        is equilibration, and the frames it gives."""
        runs = {label: (label, "training", s) for label, s in self.concentrations.items()}
        runs.update({s.label: (label, "test", s) for label, s in self.test_trajectories.items()})
        return {
            name: {
                "concentration": label,
                "kind": kind,
                "equilibration_fraction": s.equilibration_steps / s.aimd_steps,
                "frames": s.n_frames(self.aimd["print_every"]),
            }
            for name, (label, kind, s) in runs.items()
        }

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
        method = self.cp2k["method"]
        return canonical({"method": method, **({"dft": self.cp2k["dft"]} if method == "dft" else {})})

    def aimd_settings(self, system: str, segment: int) -> dict:
        return {
            "end_step": self.aimd_segment_end_step(system, segment),
            "timestep_fs": self.aimd["timestep_fs"],
            "temperature_K": self.systems[system].temperature_K,
            "thermostat_time_constant_fs": self.aimd["thermostat_time_constant_fs"],
            "print_every": self.aimd["print_every"],
            "seed": self.systems[system].seed,
        }

    def split_settings(self) -> dict:
        """The time-block split of every AIMD: the fractions of each block and the frames dropped between."""
        return canonical(self.split)
