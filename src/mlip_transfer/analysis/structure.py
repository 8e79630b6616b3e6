"""Structure of an alkali hydroxide solution: radial distribution functions of the species-resolved pairs,
running coordination numbers and first shells. :class:`RadialDistributions` accumulates the histograms chunk by
chunk for :class:`~mlip_transfer.analysis.solution.SolutionAnalysis`. Distances in Å.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from .piece import Piece

RDF_PAIRS = ("O*-O*", "O*-Ow", "M-O", "O-O", "O-H")  # O*: hydroxide oxygen, Ow: water oxygen, M: the cation


def rdf_normalise(counts: np.ndarray, edges_A: np.ndarray, pairs_per_volume: float, n_centres: float):
    """g(r) and running coordination number from histogram ``counts`` summed over frames.

    ``pairs_per_volume``: Σ over frames of (ordered distinct pairs)/V; ``n_centres``: Σ over frames of
    the number of centre atoms. For an ideal gas g = 1 exactly.
    """
    shell_volume = 4.0 / 3.0 * np.pi * (edges_A[1:] ** 3 - edges_A[:-1] ** 3)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = counts / (pairs_per_volume * shell_volume)
        coordination = np.cumsum(counts) / n_centres
    return g, coordination


def first_shell(r_A: np.ndarray, g: np.ndarray, coordination: np.ndarray, search_A: float = 1.5) -> tuple[float, float]:
    """Radius of the first minimum after the main peak of g(r), and the coordination number there."""
    if not np.isfinite(g).any() or np.nanmax(g) <= 0:
        return np.nan, np.nan
    peak = int(np.nanargmax(g))
    window = slice(peak, min(len(g), peak + int(search_A / (r_A[1] - r_A[0])) + 1))
    minimum = peak + int(np.nanargmin(g[window]))
    return float(r_A[minimum]), float(coordination[minimum])


@dataclass
class RadialDistributions:
    """Histograms of :data:`RDF_PAIRS` to half the box (bins of ``bin_width_A``), summed over the frames
    they are given, and concluded into g(r), running coordination numbers and first shells; "M" is named
    ``cation`` in the tables."""

    needs: ClassVar[tuple[str, ...]] = ("hbonds",)  # amended with each pair's first shell
    gives: ClassVar[tuple[str, ...]] = ("rdf", "hbonds")
    box_A: np.ndarray
    bin_width_A: float
    cation: str
    _counts: dict[str, np.ndarray] = field(init=False)
    _pairs_per_volume: dict[str, float] = field(init=False)
    _centres: dict[str, float] = field(init=False)

    def __post_init__(self) -> None:
        n_bins = int(self.box_A.min() / 2 / self.bin_width_A)
        self.edges_A = np.arange(n_bins + 1) * self.bin_width_A
        self._counts = {pair: np.zeros(n_bins) for pair in RDF_PAIRS}
        self._pairs_per_volume = dict.fromkeys(RDF_PAIRS, 0.0)
        self._centres = dict.fromkeys(RDF_PAIRS, 0.0)

    def accumulate(self, piece: Piece) -> None:
        """Add every frame of a piece."""
        g, counts = piece.geometry, piece.counts
        volume = float(np.prod(self.box_A))
        hydroxide, water = counts == 1, counts == 2
        distinct = ~np.eye(counts.shape[1], dtype=bool)
        d_oo, d_ho, d_ko = (g.distances(a, b) for a, b in (("O", "O"), ("H", "O"), ("M", "O")))
        n_oh, n_w = hydroxide.sum(axis=1), water.sum(axis=1)
        n_sel, n_o = len(d_oo), counts.shape[1]
        selections = {  # pair: (distances, centre atoms, ordered distinct pairs), summed over the frames
            "O*-O*": (
                d_oo[hydroxide[:, :, None] & hydroxide[:, None, :] & distinct],
                n_oh.sum(),
                (n_oh * (n_oh - 1)).sum(),
            ),
            "O*-Ow": (d_oo[hydroxide[:, :, None] & water[:, None, :]], n_oh.sum(), (n_oh * n_w).sum()),
            "M-O": (d_ko.ravel(), n_sel * d_ko.shape[1], d_ko.size),
            "O-O": (d_oo[:, distinct].ravel(), n_sel * n_o, n_sel * n_o * (n_o - 1)),
            "O-H": (d_ho.ravel(), n_sel * n_o, d_ho.size),
        }
        n_bins = len(self.edges_A) - 1
        for pair, (distances, n_centres, n_pairs) in selections.items():
            bins = (distances / self.bin_width_A).astype(np.int64)
            self._counts[pair] += np.bincount(bins[bins < n_bins], minlength=n_bins)
            self._pairs_per_volume[pair] += n_pairs / volume
            self._centres[pair] += n_centres

    def conclude(self, results: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        """g(r) and running coordination number of every pair (table ``rdf``), and each pair's first shell
        (radius of the first minimum in Å, coordination number there) added to the H-bond summary."""
        r = 0.5 * (self.edges_A[1:] + self.edges_A[:-1])
        table, shells = {"r_A": r}, {}
        for pair in RDF_PAIRS:
            g, cn = rdf_normalise(self._counts[pair], self.edges_A, self._pairs_per_volume[pair], self._centres[pair])
            name = pair.replace("M-", f"{self.cation}-")
            table[f"g_{name}"], table[f"cn_{name}"] = g, cn
            shells[name] = first_shell(r, g, cn)
        summary = results["hbonds"].copy()
        for pair, (r_min, cn) in shells.items():
            summary[f"first_shell_{pair}_r_A"], summary[f"first_shell_{pair}_cn"] = r_min, cn
        return {"rdf": pd.DataFrame(table), "hbonds": summary}
