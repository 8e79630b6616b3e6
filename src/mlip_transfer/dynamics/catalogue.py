"""The study's MD runs (MD stage): every selected model at every selected concentration, ``md.replicas`` times,
each replica from its own AIMD frame and seeds, and the reference-method labels of their first replicas."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .. import names
from ..reference.systems import ReferenceCatalogue
from ..settings import JobSettings
from ..units import frame_interval_ps


@dataclass(frozen=True)
class MDSettings(JobSettings):
    """One MD replica: integrator, thermostat, temperature, the AIMD frame it starts from (an index, counted
    from the end) and its seed, and the model's precision."""

    engine: str
    steps: int
    timestep_fs: float
    write_interval: int
    thermostat: Mapping
    temperature_K: float
    start_frame: int
    seed: int
    default_dtype: str


def replica_seed(seed: int, label: str, replica: int) -> int:
    """The seed of one MD replica: a function of the run's seed, the concentration's label and the replica only."""
    return int(np.random.SeedSequence([seed, zlib.crc32(label.encode()), replica]).generate_state(1)[0])


class MDCatalogue:
    """MD runs as (model, "<label>.r<k>"), and the settings each MD and relabelling job depends on."""

    def __init__(self, config: Mapping, reference: ReferenceCatalogue):
        self.config, self.md, self.reference = config, config["md"], reference
        self.replicas: int = self.md["replicas"]
        self.runs: list[tuple[str, str]] = [
            (model, names.md_replica(label, k))
            for model in self.md["models"]
            for label in self.md["concentrations"]
            for k in range(self.replicas)
        ]
        # The reference method on each MD run's first replica (md_reference), in chunks of frames per job;
        # a study without CP2K has no reference method to run (reference_skipped says so)
        labelling = config["md_reference"] if config["cp2k"] else None
        self.labelling = labelling
        self.reference_skipped: str | None = (
            "md_reference is skipped: no CP2K method is configured (cp2k: null), so the models' own MD is not "
            "checked against the reference method"
            if config["md_reference"] and not config["cp2k"]
            else None
        )
        self.reference_runs: list[tuple[str, str]] = (
            [(model, system) for model, system in self.runs if names.replica_of(system)[1] == 0] if labelling else []
        )
        self.reference_chunks: int = -(-labelling["frames"] // labelling["frames_per_job"]) if labelling else 0

    @property
    def systems(self) -> list[str]:
        """Every MD replica's system ("<label>.r<k>"), the same for every MD model."""
        return list(dict.fromkeys(system for _, system in self.runs))

    @property
    def frame_interval_ps(self) -> float:
        """Time between the MD's written frames."""
        return frame_interval_ps(self.md["timestep_fs"], self.md["write_interval"])

    def equilibration_frames(self) -> int:
        """Leading frames of every MD trajectory that are equilibration (analysis.equilibration_ps)."""
        return round(self.config["analysis"]["equilibration_ps"] / self.frame_interval_ps)

    def frames_after_equilibration(self) -> int:
        """Frames of every MD trajectory after its equilibration (it writes step 0 and every write_interval-th)."""
        return self.md["steps"] // self.md["write_interval"] + 1 - self.equilibration_frames()

    def reference_chunk(self, chunk: int) -> list[int]:
        """The selected MD frames one reference-labelling job computes (indices into the run's selection)."""
        start = chunk * self.labelling["frames_per_job"]
        return list(range(start, min(start + self.labelling["frames_per_job"], self.labelling["frames"])))

    def settings(self, system: str) -> MDSettings:
        """One MD replica's start, integrator, thermostat and seed; not the list of other runs, nor how it runs.

        Replica k starts from the AIMD frame k × ``md.replica_spacing_ps`` before the last one, with velocities
        and thermostat noise from its own seed (from the run's seed, the label and k, so that adding a
        concentration or a replica changes no other run)."""
        label, replica = names.replica_of(system)
        return MDSettings(
            engine=self.md["engine"],  # a different integrator and random stream: another trajectory
            steps=self.md["steps"],
            timestep_fs=self.md["timestep_fs"],
            write_interval=self.md["write_interval"],
            thermostat=self.md["thermostat"],
            temperature_K=self.reference.systems[label].temperature_K,
            start_frame=-1 - round(replica * self.md["replica_spacing_ps"] / self.reference.frame_interval_ps(label)),
            seed=replica_seed(self.config["seed"], label, replica),
            default_dtype=self.md["default_dtype"],
        )
