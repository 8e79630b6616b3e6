"""The study's boxes and their AIMD (reference stage): every concentration's training AIMD, its independent
test AIMD, and the pretraining box of a demo foundation model, with what each box and AIMD job depends on.
An AIMD is computed with CP2K, or imported from files that exist already (:mod:`.imported`): then its
composition, cell, frames and time between frames are read from its files.

Built once from a validated config (``config/schema.yaml`` fills in the defaults). Units: as in the config's
key names (Å, fs, K, mol/L).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace

from .. import names
from ..chemistry import ChemistryError
from ..limits import FrameLimits
from ..settings import canonical
from ..units import frame_interval_ps
from .box import (
    BoxError,
    Composition,
    composition_for_molarity,
    composition_of_symbols,
    cubic_box_length_A,
    molarity_of_volume_mol_per_L,
)
from .cp2k_output import CP2KError
from .frames import FramesError
from .imported import ImportedDataError, TrajectoryHeader, TrajectorySource, scan
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
    explicit_composition: bool = False  # n_hydroxide + n_water given (or read), rather than chosen for a molarity
    source: TrajectorySource | None = None  # imported: its files; None: computed with CP2K
    header: TrajectoryHeader | None = None  # imported: what its files hold (atoms, cell, frames, timing)

    @classmethod
    def from_config(cls, entry: Mapping, key: str, config: Mapping) -> System:
        aimd = config["cp2k"]["aimd"] if config["cp2k"] else {"steps": 0, "equilibration_steps": 0}  # refused later
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

    @classmethod
    def imported(cls, entry: Mapping, key: str, label: str, config: Mapping) -> System:
        """An AIMD imported from files (``entry``: a concentration's ``imported.training`` or ``.test``):
        its composition, cell and frames are those of the files; any stated molarity is checked against them."""
        source = TrajectorySource.from_config(entry)
        try:
            header = scan(source)
            composition = composition_of_symbols(header.symbols, config["cation"])
        except (ImportedDataError, FramesError, BoxError, CP2KError, OSError, ValueError) as error:
            raise ImportedDataError(f"config key '{key}': {error}") from error
        return cls(
            label=label,
            key=key,
            composition=composition,
            temperature_K=entry.get("temperature_K", config["temperature_K"]),
            seed=config["seed"],
            aimd_steps=0,
            equilibration_steps=0,
            stated_molarity_mol_per_L=entry.get("molarity_mol_per_L"),
            explicit_composition=True,
            source=source,
            header=header,
        )

    @property
    def cell_A(self) -> tuple[float, float, float]:
        """The box's edges (an imported AIMD's orthorhombic cell, else the cubic box)."""
        return self.header.cell_A if self.header else (self.cubic_box_length_A,) * 3

    @property
    def molarity_mol_per_L(self) -> float:
        """The box's own molarity: its hydroxide per volume (not the label's)."""
        a, b, c = self.cell_A
        return molarity_of_volume_mol_per_L(self.composition, a**3 if a == b == c else a * b * c)

    @property
    def molality_mol_per_kg(self) -> float:
        return self.composition.molality_mol_per_kg

    @property
    def cubic_box_length_A(self) -> float:
        """Edge of the cubic box: the configured one, else from the density correlation (an imported
        orthorhombic box: the edge of the cube of its volume)."""
        if self.header:
            a, b, c = self.header.cell_A
            return a if a == b == c else (a * b * c) ** (1.0 / 3.0)
        if self.box_length_A:
            return self.box_length_A
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return cubic_box_length_A(self.composition)

    def n_frames(self, print_every: int) -> int:
        """Frames its AIMD gives after equilibration (CP2K prints steps 0, k, 2k, …; an import: its own)."""
        if self.header:
            return self.header.frames
        return self.aimd_steps // print_every + (-self.equilibration_steps) // print_every + 1


def _conditions(entry: Mapping) -> dict:
    """What a concentration entry states of an imported AIMD: its molarity (checked) and temperature."""
    return {k: entry[k] for k in ("molarity_mol_per_L", "temperature_K") if k in entry}


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
    """The boxes and AIMD runs of a study (computed or imported), their time-block splits, and the settings
    of each box, AIMD and import job."""

    def __init__(self, config: Mapping):
        self.config = config
        self.cp2k: Mapping | None = config["cp2k"]  # None: no CP2K (every AIMD imported, E0s given)
        self.aimd: Mapping | None = self.cp2k["aimd"] if self.cp2k else None
        self.split = config["split"]
        # what every frame of an AIMD, computed or imported, must hold (the frames and import jobs' params)
        self.frame_limits = FrameLimits.from_params(config["frame_checks"])
        entries = {c["label"]: (c, f"concentrations[{i}]") for i, c in enumerate(config["concentrations"])}
        self.concentrations: dict[str, System] = {
            label: self._system(entry, key, label, "training") for label, (entry, key) in entries.items()
        }
        pretrain = (config["foundation_model"] or {}).get("pretrain")
        self.pretrain: System | None = (
            System.from_config(pretrain["system"], "foundation_model.pretrain.system", config) if pretrain else None
        )
        # Every concentration's test set: its own AIMD (computed: another box and seed, same method; or
        # imported), or, without one, the last time block of its training AIMD.
        self.test_trajectories: dict[str, System] = self._test_trajectories(entries, config["test_trajectory"])
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

    def _system(self, entry: Mapping, key: str, label: str, kind: str) -> System:
        imported = (entry.get("imported") or {}).get(kind)
        if imported:
            return System.imported({**imported, **_conditions(entry)}, f"{key}.imported.{kind}", label, self.config)
        return System.from_config(entry, key, self.config)

    def _test_trajectories(self, entries: Mapping, test: Mapping | None) -> dict[str, System]:
        tests = {}
        for label, system in self.concentrations.items():
            entry, key = entries[label]
            if (entry.get("imported") or {}).get("test"):
                tests[label] = self._system(entry, key, names.test_trajectory(label), "test")
            elif test and not system.source:
                tests[label] = replace(
                    system,
                    label=names.test_trajectory(label),
                    key="test_trajectory",
                    seed=system.seed + TEST_SEED_OFFSET,
                    aimd_steps=test["steps"],
                    equilibration_steps=test["equilibration_steps"],
                )
        return tests

    @property
    def imported_systems(self) -> list[str]:
        """Systems whose AIMD is imported from files."""
        return [label for label, s in self.systems.items() if s.source]

    @property
    def computed_systems(self) -> list[str]:
        """Systems whose AIMD CP2K computes."""
        return [label for label, s in self.systems.items() if not s.source]

    def import_settings(self, system: str) -> dict:
        """What an imported AIMD's frames depend on besides its files' bytes (the import job's params)."""
        return self.systems[system].source.settings()

    def import_files(self, system: str) -> dict[str, list[str]]:
        """Every file an imported AIMD is read from, by kind (the import job's inputs)."""
        return self.systems[system].source.input_files()

    def imported_file_list(self) -> list[str]:
        """Every file the study's imported AIMD is read from (recorded in the manifest with its SHA-256)."""
        return [f for s in self.imported_systems for files in self.import_files(s).values() for f in files]

    def training_system(self, system: str) -> str | None:
        """The training AIMD an imported test trajectory must share no frame with (None for others)."""
        for label, test in self.test_trajectories.items():
            if test.label == system and test.source:
                return label
        return None

    @property
    def given_e0s_eV(self) -> dict[str, float] | None:
        """The isolated-atom energies given in the config (reference_energies), by element, or None: computed."""
        given = self.config["reference_energies"]
        return canonical(given["e0s_eV"]) if given else None

    def frame_interval_ps(self, system: str) -> float:
        """Time between a system's AIMD frames (computed: as printed; imported: as read or stated, strided)."""
        header = self.systems[system].header
        return header.interval_ps if header else frame_interval_ps(self.aimd["timestep_fs"], self.aimd["print_every"])

    def frames(self, system: str) -> int:
        """Frames a system's AIMD gives after equilibration."""
        return self.systems[system].n_frames(self.aimd["print_every"] if self.aimd else 1)

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

    def test_sets_of(self, label: str) -> list[str]:
        """Every test set of one concentration: its own, and its training AIMD's test block beside it."""
        return [label, *(t for t in self.in_trajectory_test_sets if names.test_set_concentration(t)[0] == label)]

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
        return split_counts(self.frames(system), {s: self.split[s] for s in SPLITS}, self.split["gap_frames"])

    def cost_systems(self) -> dict[str, dict]:
        """The AIMD runs the study pays for (every concentration's computed training and test AIMD; the
        foundation model's is shared by every model and not counted, an imported one was paid elsewhere):
        concentration, kind, the share of its steps that is equilibration, and the frames it gives."""
        runs = {label: (label, "training", s) for label, s in self.concentrations.items() if not s.source}
        runs.update({s.label: (label, "test", s) for label, s in self.test_trajectories.items() if not s.source})
        return {
            name: {
                "concentration": label,
                "kind": kind,
                "equilibration_fraction": s.equilibration_steps / s.aimd_steps,
                "frames": self.frames(name),
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
