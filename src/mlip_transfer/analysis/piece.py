"""What every analysis accumulator is given, and the protocol they share (in the manner of MDAnalysis's
``AnalysisBase``: prepared once, fed piece by piece, concluded into tables).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np
import pandas as pd

from ..geometry import ChunkGeometry


@dataclass(frozen=True)
class Piece:
    """A run of consecutive frames that share one neighbour list: unwrapped ``positions`` (n, atoms, 3, Å), its
    ``geometry``, the hydrogens owned by each oxygen (``counts``, n × n_O: 1 OH⁻, 2 water, 3 H₃O⁺), the frames'
    indices in the analysed trajectory (``frames``) and the atoms of each kind (``index``: "O", "H", "M")."""

    positions: np.ndarray
    geometry: ChunkGeometry
    counts: np.ndarray
    frames: np.ndarray
    index: dict[str, np.ndarray]


class Accumulator(Protocol):
    """One part of the analysis: it keeps what its conclusion needs from every piece, then concludes into the
    tables it ``gives``, given the tables of other parts it ``needs`` (and only those)."""

    needs: ClassVar[tuple[str, ...]]
    gives: ClassVar[tuple[str, ...]]

    def accumulate(self, piece: Piece) -> None: ...

    def conclude(self, results: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]: ...
