"""Periodic geometry of aqueous hydroxide trajectories streamed in chunks of frames: minimum images, the
shared neighbour lists of a chunk (:class:`ChunkGeometry`) and chunks of positions from ASE frames (the
trajectory reader, :func:`mlip_transfer.dynamics.trajectory.read_chunks`, yields them from files).

Boxes are orthorhombic; every cutoff must stay below half the box. Lengths in Å.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from scipy.spatial import cKDTree

KINDS = ("O", "H", "M")  # oxygens, hydrogens, the cation (its element set by the analysis)


def kind_index(symbols: np.ndarray, cation: str) -> dict[str, np.ndarray]:
    """The atoms of each kind (:data:`KINDS`) among ``symbols``; "M" is ``cation``."""
    return {kind: np.flatnonzero(symbols == (cation if kind == "M" else kind)) for kind in KINDS}


def minimum_image(delta: np.ndarray, box_A: np.ndarray) -> np.ndarray:
    """Shortest periodic image of difference vectors in an orthorhombic box (lengths ``box_A``).

    Works in place on ``delta`` (callers pass fresh differences) to spare two temporaries."""
    shift = delta / box_A
    np.round(shift, out=shift)
    shift *= box_A
    delta -= shift
    return delta


def orthorhombic_box(atoms: Atoms) -> np.ndarray:
    cell = atoms.cell.array
    if not np.allclose(cell, np.diag(np.diag(cell))):
        raise ValueError("analysis needs an orthorhombic cell")
    return np.diag(cell).copy()


def closest_pair(positions: np.ndarray, box_A: np.ndarray) -> tuple[float, int, int]:
    """The two closest atoms of one frame under periodic boundaries (orthorhombic box ``box_A``): their distance
    (Å) and indices i < j. One periodic KD-tree query (~0.2 ms for 300 atoms)."""
    box_A = np.asarray(box_A, dtype=float)
    wrapped = _wrapped(positions, box_A)
    distances, neighbours = cKDTree(wrapped, boxsize=box_A).query(wrapped, k=2)
    i = int(np.argmin(distances[:, 1]))
    j = int(neighbours[i, 1] if neighbours[i, 1] != i else neighbours[i, 0])  # coincident atoms: either order
    return float(distances[i, 1]), min(i, j), max(i, j)


class ClosestPairs:
    """The closest pair of each frame of a trajectory in turn (:func:`closest_pair`, exact), with a Verlet list:
    the pairs within ``reach_A`` + ``skin_A`` of one frame are the only ones that can be closer than ``reach_A``
    while no atom has moved ``skin_A``/2 from that frame, and the list is rebuilt when one has. A frame whose
    listed pairs are all beyond ``reach_A`` gets a full search. Lengths in Å. For 288 atoms at 300 K, 4.5 times
    faster than a search per frame on frames 0.5 fs apart, 1.3 times on frames 5 fs apart."""

    def __init__(self, reach_A: float = 1.2, skin_A: float = 1.0):
        self.reach_A, self.skin_A = reach_A, skin_A
        self.reference: np.ndarray | None = None  # the positions the list was built from
        self.box_A: np.ndarray | None = None
        self.first = self.second = np.empty(0, dtype=int)  # the listed pairs' atoms

    def __call__(self, positions: np.ndarray, box_A: np.ndarray) -> tuple[float, int, int]:
        """The closest pair's distance and atoms i < j (as :func:`closest_pair`)."""
        box_A = np.asarray(box_A, dtype=float)
        if not self._list_holds(positions, box_A):
            wrapped = _wrapped(positions, box_A)
            pairs = cKDTree(wrapped, boxsize=box_A).query_pairs(self.reach_A + self.skin_A, output_type="ndarray")
            self.first, self.second = pairs[:, 0].copy(), pairs[:, 1].copy()
            self.reference, self.box_A = positions.copy(), box_A
        if len(self.first):
            vectors = minimum_image(positions[self.second] - positions[self.first], box_A)
            d2 = np.einsum("pc,pc->p", vectors, vectors)
            k = int(np.argmin(d2))
            if d2[k] < self.reach_A**2:
                i, j = sorted((int(self.first[k]), int(self.second[k])))
                return float(np.sqrt(d2[k])), i, j
        return closest_pair(positions, box_A)

    def _list_holds(self, positions: np.ndarray, box_A: np.ndarray) -> bool:
        if self.reference is None or self.reference.shape != positions.shape or not np.array_equal(self.box_A, box_A):
            return False
        moved = minimum_image(positions - self.reference, box_A)
        return bool(np.einsum("ac,ac->a", moved, moved).max() <= (self.skin_A / 2) ** 2)


def _wrapped(positions: np.ndarray, box_A: np.ndarray) -> np.ndarray:
    """Positions inside [0, L) of each edge, as a periodic KD-tree needs them."""
    wrapped = np.mod(positions, box_A)
    return np.where(wrapped >= box_A, 0.0, wrapped)  # x just below 0 rounds to x % L = L itself


@dataclass
class ChunkGeometry:
    """Neighbour lists of a chunk of frames, computed once and shared by every per-frame step.

    Verlet lists: one periodic KD-tree search on the chunk's first frame (scipy's cKDTree) finds the
    candidate O···O pairs within the cutoff plus ``skin``; every frame then evaluates only those
    candidates, vectorised over the whole chunk (the few cations are paired with every O). The list is
    exact while no oxygen has moved more than skin/2 from the first frame: :meth:`of` raises
    :class:`SkinExceeded` otherwise, and :func:`chunk_geometries` splits the chunk there. Each H
    belongs to its nearest O, verified in every frame.
    """

    box_A: np.ndarray
    owner: np.ndarray  # (n, n_H) index of the O each H belongs to (its nearest O)
    h_vectors: np.ndarray  # (n, n_H, 3) minimum-image vector from each H's owner O to the H
    oo_pairs: np.ndarray  # (m, 3) rows (frame, O i, O j), i ≠ j listed once, closer than the O···O cutoff
    oo_vectors: np.ndarray  # (m, 3) vector from O i to O j
    positions: dict[str, np.ndarray]  # "O", "H", "M" (the cation): (n, n_kind, 3), for M–O pairs and the RDFs
    cation_o_cutoff_A: float

    @classmethod
    def of(
        cls,
        positions: np.ndarray,
        index: dict[str, np.ndarray],
        box_A: np.ndarray,
        oo_cutoff_A: float,
        cation_o_cutoff_A: float = 3.5,
        skin_A: float = 2.0,
    ) -> ChunkGeometry:
        """``positions``: (n_frames, n_atoms, 3) or one frame (n_atoms, 3); ``index``: the atoms of each kind
        ("O", "H", "M" for the cation).

        Geometry is done in single precision, as MDAnalysis does (10⁻⁶ Å is far below any cutoff)."""
        positions = positions.reshape(-1, *positions.shape[-2:]).astype(np.float32)
        box_A = np.asarray(box_A, dtype=np.float32)
        kinds = {s: positions[:, index[s]] for s in KINDS}
        o, h = kinds["O"], kinds["H"]
        # only the O···O list is a Verlet list (H owners are verified per frame, M–O pairs are all pairs)
        moved = minimum_image(o - o[:1], box_A)
        outside = np.einsum("fac,fac->fa", moved, moved).max(axis=1) > (skin_A / 2) ** 2
        if outside.any():
            raise SkinExceeded(int(np.argmax(outside)))
        box64 = box_A.astype(np.float64)  # float32 x % L can round up to L itself, outside cKDTree's box
        tree = cKDTree(o[0].astype(np.float64) % box64, boxsize=box64)
        oo = tree.query_pairs(oo_cutoff_A + skin_A, output_type="ndarray")
        oo_vec = minimum_image(o[:, oo[:, 1]] - o[:, oo[:, 0]], box_A)
        oo_d2 = np.einsum("fpc,fpc->fp", oo_vec, oo_vec)
        frame, pair = np.nonzero(oo_d2 < oo_cutoff_A**2)
        first_owner = tree.query(h[0].astype(np.float64) % box64, k=1)[1]
        nearest_oo = _nearest_listed_distance(oo, oo_d2, o.shape[1], oo_cutoff_A)
        owner, h_vectors = _nearest_owner(o, h, box_A, nearest_oo, first_owner)
        return cls(
            box_A=box_A,
            owner=owner,
            h_vectors=h_vectors,
            oo_pairs=np.column_stack([frame, oo[pair, 0], oo[pair, 1]]),
            oo_vectors=oo_vec[frame, pair],
            positions=kinds,
            cation_o_cutoff_A=cation_o_cutoff_A,
        )

    @functools.cached_property
    def cation_o_pairs(self) -> np.ndarray:
        """(m, 3) rows (frame, cation, O) closer than the cation–O cutoff; computed when first asked for."""
        o, m = self.positions["O"], self.positions["M"]
        vectors = minimum_image(o[:, None, :, :] - m[:, :, None, :], self.box_A)  # few cations: all pairs
        d2 = np.einsum("fkoc,fkoc->fko", vectors, vectors)
        return np.column_stack(np.nonzero(d2 < self.cation_o_cutoff_A**2))

    @property
    def hydrogen_counts(self) -> np.ndarray:
        """(n, n_O): hydrogens owned by each oxygen (1: OH⁻, 2: water, 3: H₃O⁺)."""
        n = len(self.owner)
        n_o = self.positions["O"].shape[1]
        keys = self.owner + n_o * np.arange(n)[:, None]
        return np.bincount(keys.ravel(), minlength=n * n_o).reshape(n, n_o)

    def distances(self, a: str, b: str) -> np.ndarray:
        """All minimum-image distances (n, n_a, n_b) between two atom kinds ("O", "H", "M"): for RDFs."""
        x, y = self.positions[a], self.positions[b]
        return np.linalg.norm(minimum_image(y[:, None, :, :] - x[:, :, None, :], self.box_A), axis=-1)


class SkinExceeded(ValueError):
    """An oxygen moved more than half the Verlet skin within a chunk: the chunk must be split before
    ``first_frame``."""

    def __init__(self, first_frame: int):
        super().__init__(f"an oxygen left the neighbour-list skin at frame {first_frame} of the chunk")
        self.first_frame = first_frame


def chunk_geometries(
    positions: np.ndarray,
    index: dict[str, np.ndarray],
    box_A: np.ndarray,
    oo_cutoff_A: float,
    cation_o_cutoff_A: float = 3.5,
) -> Iterator[tuple[int, ChunkGeometry]]:
    """``(first frame, geometry)`` of consecutive pieces of a chunk, each piece ending before the first
    frame in which an oxygen has left the neighbour list's skin."""
    start = 0
    while start < len(positions):
        piece = positions[start:]
        try:
            yield start, ChunkGeometry.of(piece, index, box_A, oo_cutoff_A, cation_o_cutoff_A)
            return
        except SkinExceeded as exceeded:
            yield start, ChunkGeometry.of(piece[: exceeded.first_frame], index, box_A, oo_cutoff_A, cation_o_cutoff_A)
            start += exceeded.first_frame


def slot_table(keys: np.ndarray, n_keys: int, values: np.ndarray, fill: int) -> np.ndarray:
    """(n_keys, largest group) table of ``values`` grouped by integer ``keys``, padded with ``fill``."""
    order = np.argsort(keys, kind="stable")
    per_key = np.bincount(keys, minlength=n_keys)
    slot = np.arange(len(keys)) - (np.cumsum(per_key) - per_key)[keys[order]]
    table = np.full((n_keys, max(int(per_key.max(initial=0)), 1)), fill)
    table[keys[order], slot] = values[order]
    return table


def _nearest_listed_distance(pairs: np.ndarray, d2: np.ndarray, n_points: int, cap_A: float) -> np.ndarray:
    """(n, n_points): distance from each point to its nearest partner among ``pairs`` (i, j), given the
    squared distances ``d2`` (n, n_pairs) of every frame; at most ``cap_A``."""
    ends = np.concatenate([pairs[:, 0], pairs[:, 1]])
    table = slot_table(ends, n_points, np.tile(np.arange(len(pairs)), 2), fill=len(pairs))  # len(pairs): padding
    padded = np.concatenate([d2, np.full((len(d2), 1), cap_A**2)], axis=1)
    return np.sqrt(np.minimum(padded[:, table].min(axis=-1), cap_A**2))


def _nearest_owner(o, h, box_A, nearest_oo, first_owner):
    """Nearest O of every H, vectorised over the frames of a chunk.

    Each H keeps its first-frame O wherever the triangle inequality proves that O is still the nearest,
    d(H, O) < d(O, its nearest other O)/2; the few H for which that fails (a stretched bond, a proton
    in transfer) are resolved against all oxygens.
    """
    n, n_h = h.shape[:2]
    frames = np.arange(n)[:, None]
    owner = np.broadcast_to(first_owner, (n, n_h)).copy()
    vectors = minimum_image(h - o[frames, owner], box_A)
    d2 = np.einsum("fhc,fhc->fh", vectors, vectors)
    f, hh = np.nonzero(4 * d2 >= nearest_oo[frames, owner] ** 2)
    if len(f):
        all_vectors = minimum_image(h[f, hh][:, None, :] - o[f], box_A)
        best = np.argmin(np.einsum("pwc,pwc->pw", all_vectors, all_vectors), axis=1)
        owner[f, hh] = best
        vectors[f, hh] = all_vectors[np.arange(len(f)), best]
    return owner, vectors


@dataclass
class PositionChunk:
    """Consecutive frames of one trajectory: positions (n_frames, n_atoms, 3) in Å, unwrapped."""

    symbols: np.ndarray
    box_A: np.ndarray
    positions: np.ndarray


def chunks_from_atoms(frames: Iterable[Atoms], chunk_frames: int = 32) -> Iterator[PositionChunk]:
    """Group ``Atoms`` frames (e.g. from :func:`ase.io.iread`) into chunks."""
    buffer: list[np.ndarray] = []
    for atoms in frames:
        if not buffer:
            symbols, box = np.array(atoms.get_chemical_symbols()), orthorhombic_box(atoms)
        buffer.append(atoms.positions)
        if len(buffer) == chunk_frames:
            yield PositionChunk(symbols, box, np.array(buffer))
            buffer = []
    if buffer:
        yield PositionChunk(symbols, box, np.array(buffer))
