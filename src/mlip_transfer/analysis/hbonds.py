"""Species and hydrogen bonds of an alkali hydroxide solution: each H belongs to its nearest O (1 H: OH⁻,
2: water, 3: H₃O⁺), geometric H bonds by donor→acceptor class, cation coordination, hydroxide defects
followed through proton transfers, and H-bond lifetimes. :class:`SpeciesHBonds` accumulates them chunk by chunk for
:class:`~mlip_transfer.analysis.solution.SolutionAnalysis`. Units: Å, ps, degrees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from ..geometry import ChunkGeometry, minimum_image, slot_table
from .piece import Piece

# Number of H bonded to an O → species of that O.
SPECIES_BY_HYDROGEN_COUNT = {0: "O2-", 1: "OH-", 2: "H2O", 3: "H3O+"}
SPECIES_CHARGE = {"O2-": -2, "OH-": -1, "H2O": 0, "H3O+": 1}
HYDROGENS_OF = {"OH-": 1, "water": 2}
HBOND_CLASSES = ("water->water", "water->OH-", "OH-->water", "OH-->OH-")


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


def hydrogen_bonds(g: ChunkGeometry, criterion: HBondCriterion) -> np.ndarray:
    """Hydrogen bonds of a chunk as rows ``(frame, donor O, hydrogen, acceptor O)``, indices into the
    chunk's frames and O and H lists, sorted. ``g`` must hold the O···O pairs within
    ``criterion.donor_acceptor_cutoff_A``."""
    n, n_h = g.owner.shape
    n_o = g.positions["O"].shape[1]
    # the hydrogens of every (frame, O), one column per hydrogen slot
    owner_key = (g.owner + n_o * np.arange(n)[:, None]).ravel()
    table = slot_table(owner_key, n * n_o, np.arange(len(owner_key)), fill=-1)  # flat H index frame·n_H + h
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


def block_ratio_error(numerator: np.ndarray, denominator: np.ndarray, n_blocks: int) -> float:
    """Standard error of sum(numerator)/sum(denominator) over a time series, from ``n_blocks`` contiguous
    blocks (NaN with fewer than 2 blocks or an empty denominator in a block)."""
    if n_blocks < 2 or len(numerator) < n_blocks:
        return np.nan
    ratios = [n.sum() / d.sum() if d.sum() else np.nan for n, d in zip(
        np.array_split(numerator, n_blocks), np.array_split(denominator, n_blocks), strict=True
    )]  # fmt: skip
    return float(np.std(ratios, ddof=1) / np.sqrt(n_blocks))


def hydroxide_defect_trajectories(
    o_positions: np.ndarray, hydrogen_counts: np.ndarray, box_A: np.ndarray, persistence_frames: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Unwrapped positions and host oxygens of each OH⁻ defect, followed through proton transfers.

    Frame to frame, the hydroxides of the previous frame are matched to those of the current one by
    minimum total minimum-image distance (Hungarian assignment). In frames whose hydroxide count differs
    from the first frame's (transient O²⁻/H₃O⁺ from OH⁻···OH⁻ proton sharing) each defect stays on its host
    oxygen, so its displacement is never frozen. A defect's position is that of its settled host
    (:func:`settled_hosts`): a proton rattling to a neighbour and back within ``persistence_frames`` moves
    no charge and is not transport, so it does not move the defect; a transfer that lasts displaces it by one
    O···O hop. Returns positions (n_frames, n_defects, 3) and the instantaneous host O indices (n_frames,
    n_defects).
    """
    current = np.flatnonzero(hydrogen_counts[0] == 1)
    hosts = [current]
    for t in range(1, len(o_positions)):
        candidates = np.flatnonzero(hydrogen_counts[t] == 1)
        if len(candidates) != len(current):  # carried forward on its host
            hosts.append(current)
            continue
        delta = minimum_image(o_positions[t, candidates][None, :, :] - o_positions[t - 1, current][:, None, :], box_A)
        rows, cols = linear_sum_assignment(np.linalg.norm(delta, axis=-1))
        current = candidates[cols[np.argsort(rows)]]
        hosts.append(current)
    hosts = np.array(hosts).reshape(len(o_positions), len(hosts[0]))
    settled = settled_hosts(hosts, persistence_frames)
    frames = np.arange(len(o_positions))[:, None]
    steps = minimum_image(o_positions[frames[1:], settled[1:]] - o_positions[frames[:-1], settled[:-1]], box_A)
    start = o_positions[0, settled[0]][None]
    return np.concatenate([start, start + np.cumsum(steps, axis=0)]), hosts


def persistence_frames(persistence_ps: float, frame_interval_ps: float) -> int:
    """The shortest stay on a new oxygen that counts (ps) in frames of ``frame_interval_ps``: at least one."""
    return max(1, round(persistence_ps / frame_interval_ps))


def settled_hosts(hosts: np.ndarray, persistence_frames: int) -> np.ndarray:
    """Each defect's settled host oxygen per frame (``hosts``: n_frames × n_defects): the host of its latest
    stay of at least ``persistence_frames``, counted from that stay's first frame; before its first such stay
    (a trajectory may begin mid-rattle), that stay's host (a defect that never stays long keeps its longest
    stay's). Shorter visits to another oxygen (a proton rattling to a neighbour and back) leave it where it
    settled."""
    settled = np.empty_like(hosts)
    for k, series in enumerate(hosts.T):
        starts = np.concatenate([[0], np.flatnonzero(np.diff(series)) + 1])
        lengths = np.diff(np.concatenate([starts, [len(series)]]))
        long = lengths >= persistence_frames
        first = starts[np.argmax(long)] if long.any() else starts[np.argmax(lengths)]
        kept = np.zeros(len(series), dtype=bool)
        kept[starts[long]] = True
        kept[first] = True
        latest = np.maximum.accumulate(np.where(kept, np.arange(len(series)), first))
        settled[:, k] = series[latest]
    return settled


def persistent_transfers(hosts: np.ndarray, persistence_frames: int) -> int:
    """Proton-transfer events: changes of a defect's settled host (:func:`settled_hosts`), i.e. of the host
    oxygen it stays on for at least ``persistence_frames``; a proton rattling to a neighbour and back is none.
    """
    return int(np.count_nonzero(np.diff(settled_hosts(hosts, persistence_frames), axis=0)))


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
class SpeciesHBonds:
    """Species, charge balance, H bonds by class and cation coordination of every frame, concluded into the
    per-frame table (``frames``), the H-bond summary (``hbonds``: per OH⁻ and per water with block errors,
    proton transfers, lifetimes) and the H-bond correlation functions (``hbond_correlation``).

    ``n_atoms``: numbers of each kind ("M" the cation, "O", "H"); ``persistence_ps``: minimum stay on a new
    oxygen for a proton transfer to count; ``hbond_lifetime_max_ps``: longest lag of the correlation functions;
    ``n_blocks``: contiguous blocks for the standard errors."""

    needs: ClassVar[tuple[str, ...]] = ("hydroxide_hosts",)
    gives: ClassVar[tuple[str, ...]] = ("frames", "hbonds", "hbond_correlation")
    n_atoms: Mapping[str, int]
    criterion: HBondCriterion
    frame_interval_ps: float
    persistence_ps: float
    hbond_lifetime_max_ps: float
    n_blocks: int
    _tables: list[pd.DataFrame] = field(default_factory=list, init=False)
    _bond_keys: list[np.ndarray] = field(default_factory=list, init=False)

    def accumulate(self, piece: Piece) -> None:
        """Add a piece's frames."""
        g, counts, frame = piece.geometry, piece.counts, piece.frames
        n, (n_m, n_o, n_h) = len(frame), (self.n_atoms[s] for s in ("M", "O", "H"))
        bonds = hydrogen_bonds(g, self.criterion)
        table = {"frame": frame, "time_ps": frame * self.frame_interval_ps}
        charge = np.full(n, n_m)
        for n_hydrogens, species in SPECIES_BY_HYDROGEN_COUNT.items():
            table[f"n_{species}"] = np.count_nonzero(counts == n_hydrogens, axis=1)
            charge += SPECIES_CHARGE[species] * table[f"n_{species}"]
        table["charge_balanced"] = (charge == 0) & (counts.max(axis=1) <= 3)
        table.update({f"hbonds_{k}": v for k, v in classify_hbonds(bonds, counts).items()})
        mo_frame, mo_oxygen = g.cation_o_pairs[:, 0], g.cation_o_pairs[:, 2]
        for label, n_hydrogens in HYDROGENS_OF.items():
            is_species = counts[mo_frame, mo_oxygen] == n_hydrogens
            table[f"cation_coordination_{label}"] = np.bincount(mo_frame[is_species], minlength=n) / max(n_m, 1)
        self._tables.append(pd.DataFrame(table))
        keys = (bonds[:, 1] * n_h + bonds[:, 2]) * n_o + bonds[:, 3]  # sorted within each frame
        self._bond_keys += np.split(keys, np.searchsorted(bonds[:, 0], np.arange(1, n)))

    def conclude(self, results: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        """Tables ``frames``, ``hbonds`` and ``hbond_correlation``; the proton transfers from the host oxygen of
        each OH⁻ defect per frame (``results["hydroxide_hosts"]``, the transport's)."""
        hosts = results["hydroxide_hosts"].to_numpy()
        frames = pd.concat(self._tables, ignore_index=True)
        mean = frames.mean(numeric_only=True)
        n_oh, n_w = mean["n_OH-"], mean["n_H2O"]
        to_oh = mean["hbonds_water->OH-"] + mean["hbonds_OH-->OH-"]
        from_oh = mean["hbonds_OH-->water"] + mean["hbonds_OH-->OH-"]
        duration_ps = len(frames) * self.frame_interval_ps
        transfers = persistent_transfers(hosts, persistence_frames(self.persistence_ps, self.frame_interval_ps))
        max_lag = max(1, round(self.hbond_lifetime_max_ps / self.frame_interval_ps))
        c_i, c_c = hbond_correlations(self._bond_keys, max_lag, origin_stride=max(1, max_lag // 10))
        lag_ps = np.arange(len(c_i)) * self.frame_interval_ps
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
            "cation_coordination_water": mean["cation_coordination_water"],
            "cation_coordination_OH-": mean["cation_coordination_OH-"],
            "proton_transfers": transfers,
            "proton_transfers_per_OH-_per_ps": transfers / (hosts.shape[1] * duration_ps) if hosts.shape[1] else np.nan,
            # integrals of C(t) up to the longest lag: lower bounds of the lifetimes where C has not decayed there
            "hbond_lifetime_intermittent_truncated_ps": float(np.trapezoid(c_i, lag_ps)),
            "hbond_lifetime_continuous_truncated_ps": float(np.trapezoid(c_c, lag_ps)),
            "hbond_lifetimes_truncated_at_ps": float(lag_ps[-1]),
            "hbond_intermittent_correlation_left_at_truncation": float(c_i[-1]),
            "hbond_continuous_correlation_left_at_truncation": float(c_c[-1]),
        }
        return {
            "frames": frames,
            "hbonds": pd.DataFrame([summary]),
            "hbond_correlation": pd.DataFrame({"lag_ps": lag_ps, "C_intermittent": c_i, "C_continuous": c_c}),
        }
