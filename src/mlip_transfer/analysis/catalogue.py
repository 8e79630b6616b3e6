"""The study's analysed trajectories (analysis stage): every MD run and the AIMD of every concentration, and
the settings each analysis depends on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .. import names
from ..dynamics.catalogue import MDCatalogue
from ..reference.systems import ReferenceCatalogue
from ..settings import JobSettings

CRITERION_KEYS = (
    "donor_acceptor_cutoff_A",
    "angle_cutoff_deg",
    "hydrogen_acceptor_cutoff_A",
    "donor_hydrogen_acceptor_min_angle_deg",
)


@dataclass(frozen=True)
class AnalysisSettings(JobSettings):
    """One trajectory's analysis (the config's ``analysis`` keys, and the timing of its frames): the H-bond
    ``criterion``, the time between frames and the leading frames skipped, the MSD fit window and blocks,
    bins, cutoffs, and the temperature, cation and viscosity of its box."""

    criterion: Mapping
    frame_interval_ps: float
    skip_frames: int
    diffusion_window_ps: Sequence[float]
    min_diffusion_window_ps: float
    diffusion_blocks: int
    rdf_bin_width_A: float
    cation_o_cutoff_A: float
    proton_transfer_persistence_ps: float
    hbond_lifetime_max_ps: float
    max_defect_mismatch_fraction: float
    cation: str
    temperature_K: float
    viscosity_mPa_s: float | None


SHARED_KEYS = (  # taken as the config has them, the same for every trajectory
    "min_diffusion_window_ps",
    "diffusion_blocks",
    "rdf_bin_width_A",
    "cation_o_cutoff_A",
    "proton_transfer_persistence_ps",
    "hbond_lifetime_max_ps",
    "max_defect_mismatch_fraction",
)


class AnalysisCatalogue:
    """Analysed runs as (source, system): a model's MD replica, or ("AIMD", label)."""

    def __init__(self, config: Mapping, reference: ReferenceCatalogue, md: MDCatalogue):
        self.config, self.analysis, self.reference, self.md = config, config["analysis"], reference, md

    def runs(self) -> list[tuple[str, str]]:
        """(source, concentration) pairs analysed: every MD run, then the AIMD reference of each concentration."""
        return [*self.md.runs, *((names.AIMD_SOURCE, label) for label in self.reference.concentrations)]

    def settings(self, source: str, system: str) -> AnalysisSettings:
        """One trajectory's analysis: criteria, bins, blocks, and the timing of its frames.

        AIMD frames had their equilibration dropped when they were extracted and are shorter than MD:
        they have their own fit window and skip nothing.
        """
        a = self.analysis
        label = names.replica_of(system)[0]
        if source == names.AIMD_SOURCE:
            interval_ps, skip_frames, window = self.reference.frame_interval_ps(label), 0, a["aimd_diffusion_window_ps"]
        else:
            interval_ps, skip_frames, window = (
                self.md.frame_interval_ps,
                self.md.equilibration_frames(),
                a["diffusion_window_ps"],
            )
        return AnalysisSettings(
            criterion={key: a[key] for key in CRITERION_KEYS},
            frame_interval_ps=interval_ps,
            skip_frames=skip_frames,
            diffusion_window_ps=window,
            **{key: a[key] for key in SHARED_KEYS},
            cation=self.config["cation"],
            temperature_K=self.reference.systems[label].temperature_K,
            viscosity_mPa_s=a["viscosity_mPa_s"].get(label),
        )
