"""Structure and transport of KOH(aq) from MD frames: hydroxide identity, proton transfer, hydrogen bonds,
K⁺ coordination, RDFs, MSDs and self-diffusion.

Built like an MDAnalysis analysis class: :class:`SolutionAnalysis` prepares on the first frame, processes
the trajectory as it streams in chunks of frames (:func:`read_chunks`; keeping only what later steps need:
K/O positions, hydrogen counts and hydrogen-bond keys, never whole frames), and concludes into tables in
``results``. Each chunk's neighbour lists (:class:`ChunkGeometry`) are built once and shared by the
species, H-bond, coordination and RDF steps, which are vectorised over the chunk's frames. Boxes are
orthorhombic; every cutoff must stay below half the box. Units: Å, ps, degrees; diffusion coefficients in
10⁻⁹ m²/s, conductivities in S/m.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
from ase import Atoms
from ase.data import chemical_symbols
from ase.io import iread
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from . import reference_data

# Number of H bonded to an O → species of that O.
SPECIES_BY_HYDROGEN_COUNT = {0: "O2-", 1: "OH-", 2: "H2O", 3: "H3O+"}
SPECIES_CHARGE = {"O2-": -2, "OH-": -1, "H2O": 0, "H3O+": 1}
HYDROGENS_OF = {"OH-": 1, "water": 2}
HBOND_CLASSES = ("water->water", "water->OH-", "OH-->water", "OH-->OH-")
RDF_PAIRS = ("O*-O*", "O*-Ow", "K-O", "O-O", "O-H")  # O*: hydroxide oxygen, Ow: water oxygen
A2_PER_PS_TO_1E9_M2_PER_S = 10.0  # 1 Å²/ps = 1e-8 m²/s = 10 × 1e-9 m²/s
DIFFUSIVE_SLOPE = (0.9, 1.1)  # log–log MSD slope of a trustworthy D fit (Maginn et al. 2019)


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


@dataclass(frozen=True)
class HBondCriterion:
    """Geometric hydrogen bond, the conjunction of the conditions that are set (not ``None``).

    Default: the common criterion for water, O(donor)···O(acceptor) < 3.5 Å and the angle
    H–O(donor)···O(acceptor) < 30°. Alternatives: an H···O(acceptor) distance below
    ``hydrogen_acceptor_cutoff_A``, and the O(donor)–H···O(acceptor) angle above
    ``donor_hydrogen_acceptor_min_angle_deg`` (MDAnalysis' HydrogenBondAnalysis uses that and the
    donor–acceptor distance).
    """

    donor_acceptor_cutoff_A: float = 3.5
    angle_cutoff_deg: float | None = 30.0
    hydrogen_acceptor_cutoff_A: float | None = None
    donor_hydrogen_acceptor_min_angle_deg: float | None = None


@dataclass
class ChunkGeometry:
    """Neighbour lists of a chunk of frames, computed once and shared by every per-frame step.

    Verlet lists: one periodic KD-tree search on the chunk's first frame (scipy's cKDTree) finds the
    candidate O···O pairs within the cutoff plus ``skin``; every frame then evaluates only those
    candidates, vectorised over the whole chunk (the few K⁺ are paired with every O). The list is
    exact while no oxygen has moved more than skin/2 from the first frame: :meth:`of` raises
    :class:`SkinExceeded` otherwise, and :func:`chunk_geometries` splits the chunk there. Each H
    belongs to its nearest O, verified in every frame.
    """

    box_A: np.ndarray
    owner: np.ndarray  # (n, n_H) index of the O each H belongs to (its nearest O)
    h_vectors: np.ndarray  # (n, n_H, 3) minimum-image vector from each H's owner O to the H
    oo_pairs: np.ndarray  # (m, 3) rows (frame, O i, O j), i ≠ j listed once, closer than the O···O cutoff
    oo_vectors: np.ndarray  # (m, 3) vector from O i to O j
    positions: dict[str, np.ndarray]  # "O", "H", "K": (n, n_kind, 3), for K–O pairs and the all-pairs RDFs
    ko_cutoff_A: float

    @classmethod
    def of(
        cls,
        positions: np.ndarray,
        index: dict[str, np.ndarray],
        box_A: np.ndarray,
        oo_cutoff_A: float,
        ko_cutoff_A: float = 3.5,
        skin_A: float = 2.0,
    ) -> ChunkGeometry:
        """``positions``: (n_frames, n_atoms, 3) or one frame (n_atoms, 3).

        Geometry is done in single precision, as MDAnalysis does (10⁻⁶ Å is far below any cutoff)."""
        positions = positions.reshape(-1, *positions.shape[-2:]).astype(np.float32)
        box_A = np.asarray(box_A, dtype=np.float32)
        kinds = {s: positions[:, index[s]] for s in ("O", "H", "K")}
        o, h = kinds["O"], kinds["H"]
        # only the O···O list is a Verlet list (H owners are verified per frame, K pairs are all pairs)
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
            ko_cutoff_A=ko_cutoff_A,
        )

    @functools.cached_property
    def ko_pairs(self) -> np.ndarray:
        """(m, 3) rows (frame, K, O) closer than the K–O cutoff; computed when first asked for."""
        o, k = self.positions["O"], self.positions["K"]
        vectors = minimum_image(o[:, None, :, :] - k[:, :, None, :], self.box_A)  # few K: all pairs
        return np.column_stack(np.nonzero(np.einsum("fkoc,fkoc->fko", vectors, vectors) < self.ko_cutoff_A**2))

    @property
    def hydrogen_counts(self) -> np.ndarray:
        """(n, n_O): hydrogens owned by each oxygen (1: OH⁻, 2: water, 3: H₃O⁺)."""
        n = len(self.owner)
        n_o = self.positions["O"].shape[1]
        keys = self.owner + n_o * np.arange(n)[:, None]
        return np.bincount(keys.ravel(), minlength=n * n_o).reshape(n, n_o)

    def distances(self, a: str, b: str) -> np.ndarray:
        """All minimum-image distances (n, n_a, n_b) between two atom kinds ("O", "H", "K"): for RDFs."""
        x, y = self.positions[a], self.positions[b]
        return np.linalg.norm(minimum_image(y[:, None, :, :] - x[:, :, None, :], self.box_A), axis=-1)


class SkinExceeded(ValueError):
    """An oxygen moved more than half the Verlet skin within a chunk: the chunk must be split before
    ``first_frame``."""

    def __init__(self, first_frame: int):
        super().__init__(f"an oxygen left the neighbour-list skin at frame {first_frame} of the chunk")
        self.first_frame = first_frame


def chunk_geometries(
    positions: np.ndarray, index: dict[str, np.ndarray], box_A: np.ndarray, oo_cutoff_A: float, ko_cutoff_A: float = 3.5
) -> Iterator[tuple[int, ChunkGeometry]]:
    """``(first frame, geometry)`` of consecutive pieces of a chunk, each piece ending before the first
    frame in which an oxygen has left the neighbour list's skin."""
    start = 0
    while start < len(positions):
        piece = positions[start:]
        try:
            yield start, ChunkGeometry.of(piece, index, box_A, oo_cutoff_A, ko_cutoff_A)
            return
        except SkinExceeded as exceeded:
            yield start, ChunkGeometry.of(piece[: exceeded.first_frame], index, box_A, oo_cutoff_A, ko_cutoff_A)
            start += exceeded.first_frame


def _slot_table(keys: np.ndarray, n_keys: int, values: np.ndarray, fill: int) -> np.ndarray:
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
    table = _slot_table(ends, n_points, np.tile(np.arange(len(pairs)), 2), fill=len(pairs))  # len(pairs): padding
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


def hydrogen_bonds(g: ChunkGeometry, criterion: HBondCriterion) -> np.ndarray:
    """Hydrogen bonds of a chunk as rows ``(frame, donor O, hydrogen, acceptor O)``, indices into the
    chunk's frames and O and H lists, sorted. ``g`` must hold the O···O pairs within
    ``criterion.donor_acceptor_cutoff_A``."""
    n, n_h = g.owner.shape
    n_o = g.positions["O"].shape[1]
    # the hydrogens of every (frame, O), one column per hydrogen slot
    owner_key = (g.owner + n_o * np.arange(n)[:, None]).ravel()
    table = _slot_table(owner_key, n * n_o, np.arange(len(owner_key)), fill=-1)  # flat H index frame·n_H + h
    h_vectors = g.h_vectors.reshape(-1, 3)
    frame = np.concatenate([g.oo_pairs[:, 0], g.oo_pairs[:, 0]])
    donor = np.concatenate([g.oo_pairs[:, 1], g.oo_pairs[:, 2]])
    acceptor = np.concatenate([g.oo_pairs[:, 2], g.oo_pairs[:, 1]])
    d_to_a_all = np.concatenate([g.oo_vectors, -g.oo_vectors])
    d_da_all = np.sqrt(np.einsum("pc,pc->p", d_to_a_all, d_to_a_all))
    found = []
    for column in table[frame * n_o + donor].T:
        has = np.flatnonzero(column >= 0)
        hydrogen = column[has]
        d_to_h, d_to_a = h_vectors[hydrogen], d_to_a_all[has]
        d_dh = np.sqrt(np.einsum("pc,pc->p", d_to_h, d_to_h))
        keep = np.ones(len(has), dtype=bool)
        if criterion.angle_cutoff_deg is not None:
            cos_limit = np.cos(np.radians(criterion.angle_cutoff_deg))
            keep &= np.einsum("pc,pc->p", d_to_h, d_to_a) > cos_limit * d_dh * d_da_all[has]
        if (
            criterion.hydrogen_acceptor_cutoff_A is not None
            or criterion.donor_hydrogen_acceptor_min_angle_deg is not None
        ):
            h_to_a = d_to_a - d_to_h
            d_ha = np.sqrt(np.einsum("pc,pc->p", h_to_a, h_to_a))
            if criterion.hydrogen_acceptor_cutoff_A is not None:
                keep &= d_ha < criterion.hydrogen_acceptor_cutoff_A
            if criterion.donor_hydrogen_acceptor_min_angle_deg is not None:
                cos_limit = np.cos(np.radians(criterion.donor_hydrogen_acceptor_min_angle_deg))
                keep &= np.einsum("pc,pc->p", -d_to_h, h_to_a) < cos_limit * d_dh * d_ha
        kept = has[keep]
        found.append(np.column_stack([frame[kept], donor[kept], hydrogen[keep] % n_h, acceptor[kept]]))
    bonds = np.concatenate(found) if found else np.empty((0, 4), dtype=np.int64)
    return bonds[np.lexsort(bonds.T[::-1])]


def classify_hbonds(bonds: np.ndarray, hydrogen_counts: np.ndarray) -> dict[str, np.ndarray]:
    """Per-frame counts of bonds by donor→acceptor species (water→water, water→OH⁻, OH⁻→water,
    OH⁻→OH⁻; anything involving H₃O⁺ or O²⁻ is ``other``). ``bonds`` as from :func:`hydrogen_bonds`."""
    n = len(hydrogen_counts)
    frame = bonds[:, 0]
    donor = hydrogen_counts[frame, bonds[:, 1]]
    acceptor = hydrogen_counts[frame, bonds[:, 3]]
    counts = {}
    for key in HBOND_CLASSES:
        d, a = (HYDROGENS_OF[part] for part in key.split("->"))
        counts[key] = np.bincount(frame[(donor == d) & (acceptor == a)], minlength=n)
    counts["other"] = np.bincount(frame, minlength=n) - sum(counts.values())
    return counts


def msd_fft(positions: np.ndarray) -> np.ndarray:
    """Mean-square displacement over all time origins, averaged over particles (Å²).

    ``positions``: unwrapped, shape (n_frames, n_particles, 3). Uses the FFT decomposition
    MSD(m) = S1(m) − 2·S2(m) with S2 the position autocorrelation (Calandrini et al. 2011).
    """
    n = positions.shape[0]
    r2 = np.einsum("tpc,tpc->tp", positions, positions)
    r2_padded = np.concatenate([r2, np.zeros((1, r2.shape[1]))])
    s1 = np.empty((n, r2.shape[1]))
    q = 2.0 * r2.sum(axis=0)
    for m in range(n):
        q -= r2_padded[m - 1] + r2_padded[n - m]
        s1[m] = q / (n - m)
    spectrum = np.fft.rfft(positions, n=2 * n, axis=0)
    autocorrelation = np.fft.irfft(spectrum * spectrum.conj(), n=2 * n, axis=0)[:n].sum(axis=-1)
    s2 = autocorrelation / (n - np.arange(n))[:, None]
    return (s1 - 2.0 * s2).mean(axis=1)


def diffusion_coefficient(time_ps: np.ndarray, msd_A2: np.ndarray, window_ps: tuple[float, float]) -> float:
    """Self-diffusion coefficient (10⁻⁹ m²/s) from a linear fit MSD = 6·D·t + c inside ``window_ps``."""
    mask = (time_ps >= window_ps[0]) & (time_ps <= window_ps[1])
    if mask.sum() < 2:
        raise ValueError(
            f"diffusion fit window {tuple(window_ps)} ps holds {mask.sum()} MSD points; "
            f"the trajectory (or block) covers {time_ps[-1]:.3f} ps"
        )
    slope = np.polyfit(time_ps[mask], msd_A2[mask], 1)[0]
    return slope / 6.0 * A2_PER_PS_TO_1E9_M2_PER_S


def msd_loglog_slope(time_ps: np.ndarray, msd_A2: np.ndarray, window_ps: tuple[float, float]) -> float:
    """Slope of log MSD against log t inside ``window_ps``: 1 where motion is diffusive, 2 where it is still
    ballistic (Maginn et al., LiveCoMS 1, 6324 (2019)); a D fitted elsewhere is not a diffusion coefficient."""
    mask = (time_ps >= window_ps[0]) & (time_ps <= window_ps[1]) & (time_ps > 0) & (msd_A2 > 0)
    if mask.sum() < 2:
        return np.nan
    return float(np.polyfit(np.log(time_ps[mask]), np.log(msd_A2[mask]), 1)[0])


def is_diffusive(loglog_slope: float, window_ps: tuple[float, float], min_window_ps: float) -> bool:
    """A fit to trust: log–log MSD slope within [0.9, 1.1] over a window at least ``min_window_ps`` long."""
    return bool(
        DIFFUSIVE_SLOPE[0] <= loglog_slope <= DIFFUSIVE_SLOPE[1] and window_ps[1] - window_ps[0] >= min_window_ps
    )


def block_diffusion(
    positions: np.ndarray, frame_interval_ps: float, window_ps: tuple[float, float], n_blocks: int
) -> tuple[float, float]:
    """D from the whole trajectory and its standard error from ``n_blocks`` independent segments."""
    time_ps = np.arange(len(positions)) * frame_interval_ps
    d = diffusion_coefficient(time_ps, msd_fft(positions), window_ps)
    if n_blocks < 2:
        return d, np.nan
    block = len(positions) // n_blocks
    per_block = [
        diffusion_coefficient(time_ps[:block], msd_fft(positions[i * block : (i + 1) * block]), window_ps)
        for i in range(n_blocks)
    ]
    return d, float(np.std(per_block, ddof=1) / np.sqrt(n_blocks))


def block_ratio_error(numerator: np.ndarray, denominator: np.ndarray, n_blocks: int) -> float:
    """Standard error of sum(numerator)/sum(denominator) over a time series, from ``n_blocks`` contiguous
    blocks (NaN with fewer than 2 blocks or an empty denominator in a block)."""
    if n_blocks < 2 or len(numerator) < n_blocks:
        return np.nan
    ratios = [n.sum() / d.sum() if d.sum() else np.nan for n, d in zip(
        np.array_split(numerator, n_blocks), np.array_split(denominator, n_blocks), strict=True
    )]  # fmt: skip
    return float(np.std(ratios, ddof=1) / np.sqrt(n_blocks))


def yeh_hummer_correction(temperature_K: float, viscosity_mPa_s: float, box_length_A: float) -> float:
    """Finite-size correction ξ·k_B·T/(6π·η·L) to add to a periodic-box D (10⁻⁹ m²/s), ξ = 2.837297."""
    kT = reference_data.BOLTZMANN_J_PER_K * temperature_K
    correction_m2_per_s = (
        reference_data.YEH_HUMMER_XI * kT / (6 * np.pi * viscosity_mPa_s * 1e-3 * box_length_A * 1e-10)
    )
    return correction_m2_per_s * 1e9


def nernst_einstein_conductivity_S_per_m(
    n_ion_pairs: int, volume_A3: float, temperature_K: float, d_cation: float, d_anion: float
) -> float:
    """σ = e²/(V·k_B·T)·N·(D₊ + D₋) for a 1:1 electrolyte; D in 10⁻⁹ m²/s."""
    e, kT = reference_data.ELEMENTARY_CHARGE_C, reference_data.BOLTZMANN_J_PER_K * temperature_K
    return e**2 * n_ion_pairs * (d_cation + d_anion) * 1e-9 / (volume_A3 * 1e-30 * kT)


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


def hydroxide_defect_trajectories(
    o_positions: np.ndarray, hydrogen_counts: np.ndarray, box_A: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Unwrapped positions and host oxygens of each OH⁻ defect, followed through proton transfers.

    Frame to frame, the hydroxides of the previous frame are matched to those of the current one by
    minimum total minimum-image distance (Hungarian assignment); a defect moves by the minimum-image
    vector between its old and new oxygen, so a transfer displaces it by one O···O hop. Frames whose
    hydroxide count differs from the first frame's (transient H₃O⁺/OH⁻ pairs) leave the defects in place.
    Returns positions (n_frames, n_defects, 3) and host O indices (n_frames, n_defects).
    """
    current = np.flatnonzero(hydrogen_counts[0] == 1)
    unwrapped, hosts = [o_positions[0, current]], [current]
    for t in range(1, len(o_positions)):
        candidates = np.flatnonzero(hydrogen_counts[t] == 1)
        if len(candidates) != len(current):
            unwrapped.append(unwrapped[-1])
            hosts.append(current)
            continue
        delta = minimum_image(o_positions[t, candidates][None, :, :] - o_positions[t - 1, current][:, None, :], box_A)
        rows, cols = linear_sum_assignment(np.linalg.norm(delta, axis=-1))
        unwrapped.append(unwrapped[-1] + delta[rows, cols])
        current = candidates[cols]
        hosts.append(current)
    n_defects = len(hosts[0])
    return np.array(unwrapped).reshape(len(o_positions), n_defects, 3), np.array(hosts).reshape(
        len(o_positions), n_defects
    )


def persistent_transfers(hosts: np.ndarray, persistence_frames: int) -> int:
    """Proton-transfer events: changes of a defect's host oxygen that last at least ``persistence_frames``.

    Visits shorter than the persistence time (a proton rattling to a neighbour and back) are ignored;
    an event is counted when the defect settles on an oxygen other than the one it last settled on.
    """
    events = 0
    for series in hosts.T:
        change = np.flatnonzero(np.diff(series)) + 1
        starts = np.concatenate([[0], change])
        lengths = np.diff(np.concatenate([starts, [len(series)]]))
        settled = series[starts[(lengths >= persistence_frames) | (starts == 0)]]
        events += int(np.count_nonzero(np.diff(settled)))
    return events


def hbond_correlations(
    bond_keys: Sequence[np.ndarray], max_lag: int, origin_stride: int
) -> tuple[np.ndarray, np.ndarray]:
    """Intermittent and continuous H-bond time correlation functions C_I(t), C_C(t), t = 0…max_lag frames.

    ``bond_keys[t]``: sorted unique integer keys of the bonds present at frame t. C_I(t) = ⟨h(0)h(t)⟩/⟨h⟩
    (the bond exists at both times); C_C(t) = ⟨h(0)H(t)⟩/⟨h⟩ (it existed without a break), averaged
    over time origins every ``origin_stride`` frames.
    """
    max_lag = min(max_lag, len(bond_keys) - 1)
    intermittent, continuous = np.zeros(max_lag + 1), np.zeros(max_lag + 1)
    total = 0
    for t0 in range(0, len(bond_keys) - max_lag, origin_stride):
        start = bond_keys[t0]
        total += len(start)
        surviving = start
        for lag in range(max_lag + 1):
            now = bond_keys[t0 + lag]
            intermittent[lag] += len(np.intersect1d(start, now, assume_unique=True))
            surviving = np.intersect1d(surviving, now, assume_unique=True)
            continuous[lag] += len(surviving)
    return intermittent / max(total, 1), continuous / max(total, 1)


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


def read_chunks(path: str | os.PathLike, chunk_frames: int = 32) -> Iterator[PositionChunk]:
    """Stream a trajectory file in chunks: H5MD (``.h5``, the MD stage's output) one block read per
    chunk, anything else ASE reads (extended XYZ AIMD frames, ``.traj``) through ``iread``."""
    if Path(path).suffix not in (".h5", ".h5md"):
        yield from chunks_from_atoms(iread(path, index=":"), chunk_frames)
        return
    with h5py.File(path, "r") as f:
        particles = f["particles/all"]
        symbols, box = np.array(chemical_symbols)[particles["species"][:]], particles["box/edges"][:]
        positions = particles["position/value"]
        for start in range(0, len(positions), chunk_frames):
            yield PositionChunk(symbols, box, positions[start : start + chunk_frames])


@dataclass
class SolutionAnalysis:
    """Species, proton transfer, H-bonds, K⁺ coordination, RDFs and diffusion of a KOH(aq) trajectory.

    ``frame_interval_ps``: time between consecutive frames; ``skip_frames``: leading frames ignored
    (equilibration); ``diffusion_window_ps``: MSD fit window; ``min_diffusion_window_ps``: shortest fit window
    whose D counts as diffusive (with a log–log MSD slope in [0.9, 1.1]); ``n_blocks``: segments for the error of D;
    ``viscosity_mPa_s``: shear viscosity for the Yeh–Hummer correction (None: no correction);
    ``persistence_ps``: minimum stay on a new oxygen for a proton transfer to count;
    ``k_o_cutoff_A``: K⁺–O coordination cutoff; ``hbond_lifetime_max_ps``: longest lag of the H-bond
    correlation functions; ``rdf_every``: accumulate RDFs every n-th frame (0: never; RDFs need all
    pairs up to L/2, the costliest step).
    """

    frame_interval_ps: float
    temperature_K: float = 298.15
    criterion: HBondCriterion = field(default_factory=HBondCriterion)
    rdf_bin_width_A: float = 0.05
    diffusion_window_ps: tuple[float, float] = (0.0, np.inf)
    min_diffusion_window_ps: float = 0.0
    n_blocks: int = 1
    viscosity_mPa_s: float | None = None
    persistence_ps: float = 0.0
    k_o_cutoff_A: float = 3.5
    hbond_lifetime_max_ps: float = 1.0
    rdf_every: int = 1
    skip_frames: int = 0
    results: dict[str, pd.DataFrame] = field(default_factory=dict, init=False)

    def run(self, chunks: Iterable[PositionChunk]) -> SolutionAnalysis:
        """Analyse a trajectory streamed as chunks (see :func:`read_chunks`, :func:`chunks_from_atoms`)."""
        frame = 0
        for chunk in chunks:
            positions = chunk.positions[max(0, self.skip_frames - frame) :]
            frame += len(chunk.positions)
            if len(positions) == 0:
                continue
            if not hasattr(self, "_tables"):
                self._prepare(chunk)
            self._process_chunk(positions)
        if not hasattr(self, "_tables"):
            raise ValueError(f"no frames left to analyse after skipping {self.skip_frames}")
        self._conclude()
        return self

    def _prepare(self, chunk: PositionChunk) -> None:
        self._index = {s: np.flatnonzero(chunk.symbols == s) for s in ("K", "O", "H")}
        self._box = chunk.box_A
        cutoffs = [self.criterion.donor_acceptor_cutoff_A, self.k_o_cutoff_A]
        if max(cutoffs) >= self._box.min() / 2:
            raise ValueError(
                f"analysis cutoffs {cutoffs} Å must stay below half the box ({self._box.min() / 2:.2f} Å) "
                "for the minimum-image convention"
            )
        n_bins = int(self._box.min() / 2 / self.rdf_bin_width_A)
        self._edges = np.arange(n_bins + 1) * self.rdf_bin_width_A
        self._rdf = {pair: np.zeros(n_bins) for pair in RDF_PAIRS}
        self._rdf_pairs_per_volume = dict.fromkeys(RDF_PAIRS, 0.0)
        self._rdf_centres = dict.fromkeys(RDF_PAIRS, 0.0)
        self._n_frames = 0
        self._tables: list[pd.DataFrame] = []
        self._k_positions: list[np.ndarray] = []
        self._o_positions: list[np.ndarray] = []
        self._hydrogen_counts: list[np.ndarray] = []
        self._bond_keys: list[np.ndarray] = []

    def _process_chunk(self, chunk_positions: np.ndarray) -> None:
        cutoffs = (self.criterion.donor_acceptor_cutoff_A, self.k_o_cutoff_A)
        for start, g in chunk_geometries(chunk_positions, self._index, self._box, *cutoffs):
            self._process_piece(chunk_positions[start : start + len(g.owner)], g)

    def _process_piece(self, positions: np.ndarray, g: ChunkGeometry) -> None:
        n, (n_k, n_o, n_h) = len(positions), (len(self._index[s]) for s in ("K", "O", "H"))
        counts = g.hydrogen_counts
        bonds = hydrogen_bonds(g, self.criterion)
        frame = np.arange(self._n_frames, self._n_frames + n)
        table = {"frame": frame, "time_ps": frame * self.frame_interval_ps}
        charge = np.full(n, n_k)
        for n_hydrogens, species in SPECIES_BY_HYDROGEN_COUNT.items():
            table[f"n_{species}"] = np.count_nonzero(counts == n_hydrogens, axis=1)
            charge += SPECIES_CHARGE[species] * table[f"n_{species}"]
        table["charge_balanced"] = (charge == 0) & (counts.max(axis=1) <= 3)
        table.update({f"hbonds_{k}": v for k, v in classify_hbonds(bonds, counts).items()})
        ko_frame, ko_oxygen = g.ko_pairs[:, 0], g.ko_pairs[:, 2]
        for label, n_hydrogens in HYDROGENS_OF.items():
            is_species = counts[ko_frame, ko_oxygen] == n_hydrogens
            table[f"K_coordination_{label}"] = np.bincount(ko_frame[is_species], minlength=n) / max(n_k, 1)
        self._tables.append(pd.DataFrame(table))
        if self.rdf_every:
            self._accumulate_rdfs(g, counts, frame % self.rdf_every == 0)
        self._k_positions.append(positions[:, self._index["K"]])
        self._o_positions.append(positions[:, self._index["O"]])
        self._hydrogen_counts.append(counts)
        keys = (bonds[:, 1] * n_h + bonds[:, 2]) * n_o + bonds[:, 3]  # sorted within each frame
        self._bond_keys += np.split(keys, np.searchsorted(bonds[:, 0], np.arange(1, n)))
        self._n_frames += n

    def _accumulate_rdfs(self, g: ChunkGeometry, counts: np.ndarray, selected: np.ndarray) -> None:
        volume = float(np.prod(self._box))
        hydroxide, water = counts[selected] == 1, counts[selected] == 2
        distinct = ~np.eye(counts.shape[1], dtype=bool)
        d_oo, d_ho, d_ko = (g.distances(a, b)[selected] for a, b in (("O", "O"), ("H", "O"), ("K", "O")))
        n_oh, n_w = hydroxide.sum(axis=1), water.sum(axis=1)
        n_sel, n_o = len(d_oo), counts.shape[1]
        selections = {  # pair: (distances, centre atoms, ordered distinct pairs), summed over the frames
            "O*-O*": (
                d_oo[hydroxide[:, :, None] & hydroxide[:, None, :] & distinct],
                n_oh.sum(),
                (n_oh * (n_oh - 1)).sum(),
            ),
            "O*-Ow": (d_oo[hydroxide[:, :, None] & water[:, None, :]], n_oh.sum(), (n_oh * n_w).sum()),
            "K-O": (d_ko.ravel(), n_sel * d_ko.shape[1], d_ko.size),
            "O-O": (d_oo[:, distinct].ravel(), n_sel * n_o, n_sel * n_o * (n_o - 1)),
            "O-H": (d_ho.ravel(), n_sel * n_o, d_ho.size),
        }
        n_bins = len(self._edges) - 1
        for pair, (distances, n_centres, n_pairs) in selections.items():
            bins = (distances / self.rdf_bin_width_A).astype(np.int64)
            self._rdf[pair] += np.bincount(bins[bins < n_bins], minlength=n_bins)
            self._rdf_pairs_per_volume[pair] += n_pairs / volume
            self._rdf_centres[pair] += n_centres

    def _conclude(self) -> None:
        frames = pd.concat(self._tables, ignore_index=True)
        self.results["frames"] = frames
        self.results["rdf"], shells = self._conclude_rdf()
        hydroxide_positions, hosts = hydroxide_defect_trajectories(
            np.concatenate(self._o_positions), np.concatenate(self._hydrogen_counts), self._box
        )
        self.results["hbonds"] = self._conclude_hbonds(frames, hosts, shells)
        self.results["diffusion"], self.results["msd"] = self._conclude_diffusion(hydroxide_positions)

    def _conclude_rdf(self) -> tuple[pd.DataFrame, dict]:
        r = 0.5 * (self._edges[1:] + self._edges[:-1])
        table, shells = {"r_A": r}, {}
        for pair in RDF_PAIRS:
            g, cn = rdf_normalise(
                self._rdf[pair], self._edges, self._rdf_pairs_per_volume[pair], self._rdf_centres[pair]
            )
            table[f"g_{pair}"], table[f"cn_{pair}"] = g, cn
            shells[pair] = first_shell(r, g, cn)
        return pd.DataFrame(table), shells

    def _conclude_hbonds(self, frames: pd.DataFrame, hosts: np.ndarray, shells: dict) -> pd.DataFrame:
        mean = frames.mean(numeric_only=True)
        n_oh, n_w = mean["n_OH-"], mean["n_H2O"]
        to_oh = mean["hbonds_water->OH-"] + mean["hbonds_OH-->OH-"]
        from_oh = mean["hbonds_OH-->water"] + mean["hbonds_OH-->OH-"]
        duration_ps = len(frames) * self.frame_interval_ps
        persistence_frames = max(1, round(self.persistence_ps / self.frame_interval_ps))
        transfers = persistent_transfers(hosts, persistence_frames)
        max_lag = max(1, round(self.hbond_lifetime_max_ps / self.frame_interval_ps))
        c_i, c_c = hbond_correlations(self._bond_keys, max_lag, origin_stride=max(1, max_lag // 10))
        lag_ps = np.arange(len(c_i)) * self.frame_interval_ps
        self.results["hbond_correlation"] = pd.DataFrame({"lag_ps": lag_ps, "C_intermittent": c_i, "C_continuous": c_c})
        summary = {
            "n_frames": len(frames),
            "charge_unbalanced_fraction": 1.0 - frames["charge_balanced"].mean(),
            "mean_n_OH-": n_oh,
            "mean_n_H2O": n_w,
            "mean_n_H3O+": mean["n_H3O+"],
            **{f"mean_hbonds_{k}": mean[f"hbonds_{k}"] for k in HBOND_CLASSES},
            "hbonds_accepted_per_OH-": to_oh / n_oh if n_oh else np.nan,
            "hbonds_donated_per_OH-": from_oh / n_oh if n_oh else np.nan,
            "hbonds_OH-->OH-_per_OH-": mean["hbonds_OH-->OH-"] / n_oh if n_oh else np.nan,
            # standard errors over the same blocks as D's
            "hbonds_accepted_per_OH-_error": block_ratio_error(
                (frames["hbonds_water->OH-"] + frames["hbonds_OH-->OH-"]).to_numpy(),
                frames["n_OH-"].to_numpy(),
                self.n_blocks,
            ),
            "hbonds_OH-->OH-_per_OH-_error": block_ratio_error(
                frames["hbonds_OH-->OH-"].to_numpy(), frames["n_OH-"].to_numpy(), self.n_blocks
            ),
            "hbonds_donated_per_H2O": (mean["hbonds_water->water"] + mean["hbonds_water->OH-"]) / n_w
            if n_w
            else np.nan,
            "K_coordination_water": mean["K_coordination_water"],
            "K_coordination_OH-": mean["K_coordination_OH-"],
            "proton_transfers": transfers,
            "proton_transfers_per_OH-_per_ps": transfers / (hosts.shape[1] * duration_ps) if hosts.shape[1] else np.nan,
            "hbond_lifetime_intermittent_ps": float(np.trapezoid(c_i, lag_ps)),
            "hbond_lifetime_continuous_ps": float(np.trapezoid(c_c, lag_ps)),
        }
        for pair, (r_min, cn) in shells.items():
            summary[f"first_shell_{pair}_r_A"], summary[f"first_shell_{pair}_cn"] = r_min, cn
        return pd.DataFrame([summary])

    def _conclude_diffusion(self, hydroxide_positions: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
        o_pos = np.concatenate(self._o_positions)
        always_water = np.all(np.concatenate(self._hydrogen_counts) == 2, axis=0)
        trajectories = {
            "K+": np.concatenate(self._k_positions),
            "OH-": hydroxide_positions,
            "H2O": o_pos[:, always_water],
        }
        time_ps = np.arange(len(o_pos)) * self.frame_interval_ps
        window = (self.diffusion_window_ps[0], min(self.diffusion_window_ps[1], time_ps[-1]))
        box_length = float(np.prod(self._box) ** (1 / 3))
        correction = (
            yeh_hummer_correction(self.temperature_K, self.viscosity_mPa_s, box_length)
            if self.viscosity_mPa_s
            else np.nan
        )
        msd, rows = {"time_ps": time_ps}, []
        for species, traj in trajectories.items():
            if traj.shape[1] == 0:
                continue
            msd[f"msd_{species}_A2"] = msd_fft(traj)
            d, error = block_diffusion(traj, self.frame_interval_ps, window, self.n_blocks)
            slope = msd_loglog_slope(time_ps, msd[f"msd_{species}_A2"], window)
            rows.append(
                {
                    "species": species,
                    "n_particles": traj.shape[1],
                    "D_1e-9_m2_per_s": d,
                    "D_error_1e-9_m2_per_s": error,
                    "D_yeh_hummer_1e-9_m2_per_s": d + correction,
                    "fit_start_ps": window[0],
                    "fit_end_ps": window[1],
                    "msd_loglog_slope": slope,
                    "diffusive": is_diffusive(slope, window, self.min_diffusion_window_ps),
                }
            )
        table = pd.DataFrame(rows)
        # Nernst–Einstein from finite-size-corrected D where a viscosity was given, else from the box's D
        d_column = "D_yeh_hummer_1e-9_m2_per_s" if self.viscosity_mPa_s else "D_1e-9_m2_per_s"
        d_of = dict(zip(table["species"], table[d_column], strict=True))
        table["nernst_einstein_from"] = d_column
        ions = table[table["species"].isin(["K+", "OH-"])]
        table["nernst_einstein_diffusive"] = len(ions) == 2 and bool(ions["diffusive"].all())
        table["nernst_einstein_S_per_m"] = nernst_einstein_conductivity_S_per_m(
            len(self._index["K"]),
            float(np.prod(self._box)),
            self.temperature_K,
            d_of.get("K+", np.nan),
            d_of.get("OH-", np.nan),
        )
        return table, pd.DataFrame(msd)
