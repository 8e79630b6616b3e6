"""Structure and transport of an alkali hydroxide solution MOH(aq) from MD frames: hydroxide identity, proton
transfer, hydrogen bonds, cation coordination, RDFs, MSDs and self-diffusion.

Built like an MDAnalysis analysis class: :class:`SolutionAnalysis` prepares on the first frame, processes
the trajectory as it streams in chunks of frames (:func:`~mlip_transfer.dynamics.trajectory.read_chunks`) and
concludes into tables in ``results``. It is a thin driver: each chunk's neighbour lists
(:class:`~mlip_transfer.geometry.ChunkGeometry`) are built once and handed, as a
:class:`~mlip_transfer.analysis.piece.Piece`, to three accumulators of one protocol
(:class:`~mlip_transfer.analysis.piece.Accumulator`), each of which keeps only what its conclusion needs and
concludes into its own tables: species and H bonds
(:mod:`~mlip_transfer.analysis.hbonds`), RDFs (:mod:`~mlip_transfer.analysis.structure`) and diffusion
(:mod:`~mlip_transfer.analysis.transport`). Boxes are orthorhombic; every cutoff must stay below half the box.
Units: Å, ps, degrees; diffusion coefficients in 10⁻⁹ m²/s, conductivities in S/m.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..geometry import ChunkGeometry, PositionChunk, chunk_geometries, kind_index
from .hbonds import HBondCriterion, SpeciesHBonds
from .piece import Accumulator, Piece
from .structure import RadialDistributions
from .transport import Transport

if TYPE_CHECKING:
    from .catalogue import AnalysisSettings


@dataclass
class SolutionAnalysis:
    """Species, proton transfer, H-bonds, cation coordination, RDFs and diffusion of an MOH(aq) trajectory.

    ``frame_interval_ps``: time between consecutive frames; ``cation``: the element M; ``skip_frames``:
    leading frames ignored (equilibration); ``diffusion_window_ps``: MSD fit window;
    ``min_diffusion_window_ps``: shortest fit window whose D counts as diffusive (with a log–log MSD slope in
    [0.9, 1.1]); ``n_blocks``: segments for the error of D;
    ``viscosity_mPa_s``: shear viscosity for the Yeh–Hummer correction (None: no correction);
    ``persistence_ps``: minimum stay on a new oxygen for a proton transfer to count;
    ``cation_o_cutoff_A``: M⁺–O coordination cutoff; ``hbond_lifetime_max_ps``:
    longest lag of the H-bond correlation functions; ``max_defect_mismatch_fraction``: see
    :class:`~mlip_transfer.analysis.transport.Transport`.
    """

    frame_interval_ps: float
    cation: str
    temperature_K: float = 298.15
    criterion: HBondCriterion = field(default_factory=HBondCriterion)
    rdf_bin_width_A: float = 0.05
    diffusion_window_ps: tuple[float, float] = (0.0, np.inf)
    min_diffusion_window_ps: float = 0.0
    n_blocks: int = 1
    viscosity_mPa_s: float | None = None
    persistence_ps: float = 0.0
    cation_o_cutoff_A: float = 3.5
    hbond_lifetime_max_ps: float = 1.0
    max_defect_mismatch_fraction: float = 0.05
    skip_frames: int = 0
    results: dict[str, pd.DataFrame] = field(default_factory=dict, init=False)

    @classmethod
    def of_job(cls, settings: AnalysisSettings) -> SolutionAnalysis:
        """From one trajectory's analysis settings (the analysis catalogue's)."""
        return cls(
            frame_interval_ps=settings.frame_interval_ps,
            cation=settings.cation,
            temperature_K=settings.temperature_K,
            criterion=HBondCriterion(**settings.criterion),
            rdf_bin_width_A=settings.rdf_bin_width_A,
            diffusion_window_ps=tuple(settings.diffusion_window_ps),
            min_diffusion_window_ps=settings.min_diffusion_window_ps,
            n_blocks=settings.diffusion_blocks,
            viscosity_mPa_s=settings.viscosity_mPa_s,
            persistence_ps=settings.proton_transfer_persistence_ps,
            cation_o_cutoff_A=settings.cation_o_cutoff_A,
            hbond_lifetime_max_ps=settings.hbond_lifetime_max_ps,
            max_defect_mismatch_fraction=settings.max_defect_mismatch_fraction,
            skip_frames=settings.skip_frames,
        )

    def run(self, chunks: Iterable[PositionChunk]) -> SolutionAnalysis:
        """Analyse a trajectory streamed as chunks (see :func:`read_chunks`, :func:`chunks_from_atoms`)."""
        frame = 0
        for chunk in chunks:
            positions = chunk.positions[max(0, self.skip_frames - frame) :]
            frame += len(chunk.positions)
            if len(positions) == 0:
                continue
            if not hasattr(self, "_steps"):
                self._prepare(chunk)
            self._process_chunk(positions)
        if not hasattr(self, "_steps"):
            raise ValueError(f"no frames left to analyse after skipping {self.skip_frames}")
        self._conclude()
        return self

    def _prepare(self, chunk: PositionChunk) -> None:
        self._index = kind_index(chunk.symbols, self.cation)
        self._box = chunk.box_A
        cutoffs = [self.criterion.donor_acceptor_cutoff_A, self.cation_o_cutoff_A]
        if max(cutoffs) >= self._box.min() / 2:
            raise ValueError(
                f"analysis cutoffs {cutoffs} Å must stay below half the box ({self._box.min() / 2:.2f} Å) "
                "for the minimum-image convention"
            )
        self._n_frames = 0
        # concluded in this order, each after the parts whose tables it needs (checked in _conclude)
        self._steps: list[Accumulator] = [
            Transport(
                self._box,
                self.frame_interval_ps,
                self.temperature_K,
                self.diffusion_window_ps,
                self.min_diffusion_window_ps,
                self.n_blocks,
                self.viscosity_mPa_s,
                self.cation,
                self.max_defect_mismatch_fraction,
                self.persistence_ps,
            ),
            SpeciesHBonds(
                {s: len(i) for s, i in self._index.items()},
                self.criterion,
                self.frame_interval_ps,
                self.persistence_ps,
                self.hbond_lifetime_max_ps,
                self.n_blocks,
            ),
            RadialDistributions(self._box, self.rdf_bin_width_A, self.cation),
        ]

    def _process_chunk(self, chunk_positions: np.ndarray) -> None:
        cutoffs = (self.criterion.donor_acceptor_cutoff_A, self.cation_o_cutoff_A)
        for start, g in chunk_geometries(chunk_positions, self._index, self._box, *cutoffs):
            self._process_piece(chunk_positions[start : start + len(g.owner)], g)

    def _process_piece(self, positions: np.ndarray, g: ChunkGeometry) -> None:
        frames = np.arange(self._n_frames, self._n_frames + len(positions))
        piece = Piece(positions, g, g.hydrogen_counts, frames, self._index)
        for step in self._steps:
            step.accumulate(piece)
        self._n_frames += len(positions)

    def _conclude(self) -> None:
        for step in self._steps:
            missing = [table for table in step.needs if table not in self.results]
            if missing:
                raise RuntimeError(f"{type(step).__name__} needs {missing}, not concluded before it")
            given = step.conclude({table: self.results[table] for table in step.needs})
            if set(given) != set(step.gives):
                raise RuntimeError(f"{type(step).__name__} gave {sorted(given)}, not {sorted(step.gives)}")
            self.results.update(given)
