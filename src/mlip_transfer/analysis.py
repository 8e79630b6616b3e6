"""Structure and transport of KOH(aq) from MD frames: hydroxide identity, hydrogen bonds, RDFs, MSDs.

Built like an MDAnalysis analysis class: :class:`SolutionAnalysis` prepares on the first frame,
processes frames one at a time as they stream from the trajectory, and concludes into tables held in
``results``. Boxes are orthorhombic (the workflow's are cubic); distances use the minimum-image
convention, so every cutoff must stay below half the box length. Units: Å, ps, degrees; diffusion
coefficients in 10⁻⁹ m²/s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from ase import Atoms
from scipy.optimize import linear_sum_assignment

# Number of H bonded to an O → species of that O.
SPECIES_BY_HYDROGEN_COUNT = {0: "O2-", 1: "OH-", 2: "H2O", 3: "H3O+"}
HBOND_CLASSES = ("water->water", "water->OH-", "OH-->water", "OH-->OH-")
RDF_PAIRS = {"O-O": ("O", "O"), "O-H": ("O", "H"), "K-O": ("K", "O")}
A2_PER_PS_TO_1E9_M2_PER_S = 10.0  # 1 Å²/ps = 1e-8 m²/s = 10 × 1e-9 m²/s


def minimum_image(delta: np.ndarray, box_A: np.ndarray) -> np.ndarray:
    """Shortest periodic image of difference vectors in an orthorhombic box (lengths ``box_A``)."""
    return delta - box_A * np.round(delta / box_A)


def orthorhombic_box(atoms: Atoms) -> np.ndarray:
    cell = atoms.cell.array
    if not np.allclose(cell, np.diag(np.diag(cell))):
        raise ValueError("analysis needs an orthorhombic cell")
    return np.diag(cell).copy()


def assign_hydrogens(
    positions: np.ndarray, oxygens: np.ndarray, hydrogens: np.ndarray, box_A: np.ndarray
) -> np.ndarray:
    """For each H, the position in ``oxygens`` of its nearest O (minimum image)."""
    delta = minimum_image(positions[hydrogens][:, None, :] - positions[oxygens][None, :, :], box_A)
    return np.argmin(np.einsum("hoc,hoc->ho", delta, delta), axis=1)


def hydrogen_counts(owner: np.ndarray, n_oxygen: int) -> np.ndarray:
    """Number of hydrogens owned by each oxygen: 1 is OH⁻, 2 water, 3 H₃O⁺."""
    return np.bincount(owner, minlength=n_oxygen)


@dataclass(frozen=True)
class HBondCriterion:
    """Geometric hydrogen bond: O(donor)···O(acceptor) below ``donor_acceptor_cutoff_A`` and the
    angle H–O(donor)···O(acceptor) below ``angle_cutoff_deg`` (the common criterion for water)."""

    donor_acceptor_cutoff_A: float = 3.5
    angle_cutoff_deg: float = 30.0


def hydrogen_bonds(
    positions: np.ndarray,
    oxygens: np.ndarray,
    hydrogens: np.ndarray,
    owner: np.ndarray,
    box_A: np.ndarray,
    criterion: HBondCriterion,
) -> np.ndarray:
    """Hydrogen bonds of one frame as rows ``(donor O position, hydrogen position, acceptor O position)``
    indexing into ``oxygens``/``hydrogens``."""
    o_pos = positions[oxygens]
    donor_to_h = minimum_image(positions[hydrogens] - o_pos[owner], box_A)
    donor_to_acceptor = minimum_image(o_pos[None, :, :] - o_pos[owner][:, None, :], box_A)
    d_da = np.linalg.norm(donor_to_acceptor, axis=-1)
    cos_angle = np.einsum("hc,hoc->ho", donor_to_h, donor_to_acceptor) / (
        np.linalg.norm(donor_to_h, axis=-1)[:, None] * np.where(d_da > 0, d_da, 1.0)
    )
    is_bond = (d_da < criterion.donor_acceptor_cutoff_A) & (cos_angle > np.cos(np.radians(criterion.angle_cutoff_deg)))
    is_bond[np.arange(len(hydrogens)), owner] = False
    h, acceptor = np.nonzero(is_bond)
    return np.column_stack([owner[h], h, acceptor])


def classify_hbonds(bonds: np.ndarray, species: Sequence[str]) -> dict[str, int]:
    """Count bonds by donor→acceptor species; bonds involving other species go to ``other``."""
    counts = dict.fromkeys((*HBOND_CLASSES, "other"), 0)
    for donor, _, acceptor in bonds:
        key = f"{_short(species[donor])}->{_short(species[acceptor])}"
        counts[key if key in counts else "other"] += 1
    return counts


def _short(species: str) -> str:
    return "water" if species == "H2O" else species


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
    autocorrelation = np.fft.irfft(spectrum * spectrum.conj(), axis=0)[:n].sum(axis=-1)
    s2 = autocorrelation / (n - np.arange(n))[:, None]
    return (s1 - 2.0 * s2).mean(axis=1)


def diffusion_coefficient(time_ps: np.ndarray, msd_A2: np.ndarray, window_ps: tuple[float, float]) -> float:
    """Self-diffusion coefficient (10⁻⁹ m²/s) from a linear fit MSD = 6·D·t + c inside ``window_ps``."""
    mask = (time_ps >= window_ps[0]) & (time_ps <= window_ps[1])
    if mask.sum() < 2:
        raise ValueError(
            f"diffusion fit window {window_ps} ps holds {mask.sum()} MSD points; trajectory covers {time_ps[-1]:.3f} ps"
        )
    slope = np.polyfit(time_ps[mask], msd_A2[mask], 1)[0]
    return slope / 6.0 * A2_PER_PS_TO_1E9_M2_PER_S


def rdf_histogram(
    positions: np.ndarray, a: np.ndarray, b: np.ndarray, box_A: np.ndarray, edges_A: np.ndarray
) -> np.ndarray:
    """Pair-distance histogram between index sets ``a`` and ``b`` (self pairs excluded)."""
    delta = minimum_image(positions[a][:, None, :] - positions[b][None, :, :], box_A)
    d = np.linalg.norm(delta, axis=-1)
    d = d[a[:, None] != b[None, :]]
    return np.histogram(d, bins=edges_A)[0]


def rdf_normalise(
    counts: np.ndarray, edges_A: np.ndarray, n_a: int, n_b: int, n_same: int, volume_A3: float, n_frames: int
):
    """g(r) and the running coordination number of b around a from accumulated histograms."""
    shell_volume = 4.0 / 3.0 * np.pi * (edges_A[1:] ** 3 - edges_A[:-1] ** 3)
    n_pairs = n_a * n_b - n_same  # ordered pairs, self pairs excluded
    density_b = n_pairs / n_a / volume_A3
    g = counts / (n_frames * n_a * density_b * shell_volume)
    coordination = np.cumsum(counts) / (n_frames * n_a)
    return g, coordination


@dataclass
class SolutionAnalysis:
    """Species, hydrogen bonds, RDFs and diffusion of a KOH(aq) trajectory, streamed frame by frame.

    ``frame_interval_ps``: time between consecutive frames. ``skip_frames``: leading frames ignored
    (equilibration). ``diffusion_window_ps``: the MSD fit window.
    """

    frame_interval_ps: float
    criterion: HBondCriterion = field(default_factory=HBondCriterion)
    rdf_bin_width_A: float = 0.05
    diffusion_window_ps: tuple[float, float] = (0.0, np.inf)
    skip_frames: int = 0
    results: dict[str, pd.DataFrame] = field(default_factory=dict, init=False)

    def run(self, frames: Iterable[Atoms]) -> SolutionAnalysis:
        for i, atoms in enumerate(frames):
            if i < self.skip_frames:
                continue
            if i == self.skip_frames:
                self._prepare(atoms)
            self._single_frame(atoms)
        if not hasattr(self, "_rows"):
            raise ValueError(f"no frames left to analyse after skipping {self.skip_frames}")
        self._conclude()
        return self

    def _prepare(self, atoms: Atoms) -> None:
        symbols = np.array(atoms.get_chemical_symbols())
        self._index = {s: np.flatnonzero(symbols == s) for s in ("K", "O", "H")}
        self._box = orthorhombic_box(atoms)
        r_max = self._box.min() / 2.0
        self._edges = np.arange(0.0, r_max + 1e-9, self.rdf_bin_width_A)
        self._rdf_counts = {pair: np.zeros(len(self._edges) - 1) for pair in RDF_PAIRS}
        self._rows: list[dict] = []
        self._k_positions: list[np.ndarray] = []
        self._o_positions: list[np.ndarray] = []
        self._hydrogen_counts: list[np.ndarray] = []
        self._hydroxide_track: list[np.ndarray] = []

    def _single_frame(self, atoms: Atoms) -> None:
        pos = atoms.positions
        o, h = self._index["O"], self._index["H"]
        owner = assign_hydrogens(pos, o, h, self._box)
        n_h = hydrogen_counts(owner, len(o))
        species = [SPECIES_BY_HYDROGEN_COUNT.get(int(n), "other") for n in n_h]
        bonds = hydrogen_bonds(pos, o, h, owner, self._box, self.criterion)
        row = {"frame": len(self._rows), "time_ps": len(self._rows) * self.frame_interval_ps}
        row.update({f"n_{s}": species.count(s) for s in ("OH-", "H2O", "H3O+")})
        row.update({f"hbonds_{k}": v for k, v in classify_hbonds(bonds, species).items()})
        self._rows.append(row)
        for pair, (sa, sb) in RDF_PAIRS.items():
            self._rdf_counts[pair] += rdf_histogram(pos, self._index[sa], self._index[sb], self._box, self._edges)
        self._k_positions.append(pos[self._index["K"]].copy())
        self._o_positions.append(pos[o].copy())
        self._hydrogen_counts.append(n_h)

    def _conclude(self) -> None:
        frames = pd.DataFrame(self._rows)
        self.results["frames"] = frames
        self.results["rdf"] = self._conclude_rdf(len(frames))
        self.results["hbonds"] = self._conclude_hbonds(frames)
        self.results["diffusion"], self.results["msd"] = self._conclude_diffusion()

    def _conclude_rdf(self, n_frames: int) -> pd.DataFrame:
        r = 0.5 * (self._edges[1:] + self._edges[:-1])
        table = {"r_A": r}
        volume = float(np.prod(self._box))
        for pair, (sa, sb) in RDF_PAIRS.items():
            a, b = self._index[sa], self._index[sb]
            n_same = len(np.intersect1d(a, b))
            g, cn = rdf_normalise(self._rdf_counts[pair], self._edges, len(a), len(b), n_same, volume, n_frames)
            table[f"g_{pair}"], table[f"cn_{pair}"] = g, cn
        return pd.DataFrame(table)

    @staticmethod
    def _conclude_hbonds(frames: pd.DataFrame) -> pd.DataFrame:
        mean = frames.mean(numeric_only=True)
        n_oh, n_w = mean["n_OH-"], mean["n_H2O"]
        to_oh = mean["hbonds_water->OH-"] + mean["hbonds_OH-->OH-"]
        from_oh = mean["hbonds_OH-->water"] + mean["hbonds_OH-->OH-"]
        summary = {
            "n_frames": len(frames),
            "mean_n_OH-": n_oh,
            "mean_n_H2O": n_w,
            **{f"mean_hbonds_{k}": mean[f"hbonds_{k}"] for k in HBOND_CLASSES},
            "hbonds_accepted_per_OH-": to_oh / n_oh if n_oh else np.nan,
            "hbonds_donated_per_OH-": from_oh / n_oh if n_oh else np.nan,
            "hbonds_OH-->OH-_per_OH-": mean["hbonds_OH-->OH-"] / n_oh if n_oh else np.nan,
            "hbonds_donated_per_H2O": (mean["hbonds_water->water"] + mean["hbonds_water->OH-"]) / n_w
            if n_w
            else np.nan,
        }
        return pd.DataFrame([summary])

    def _conclude_diffusion(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        k_pos = np.array(self._k_positions)
        o_pos = np.array(self._o_positions)
        counts = np.array(self._hydrogen_counts)
        time_ps = np.arange(len(k_pos)) * self.frame_interval_ps
        always_water = np.all(counts == 2, axis=0)
        trajectories = {
            "K+": k_pos,
            "OH-": hydroxide_defect_trajectories(o_pos, counts, self._box),
            "H2O": o_pos[:, always_water],
        }
        msd = {"time_ps": time_ps}
        rows = []
        for species, traj in trajectories.items():
            if traj.shape[1] == 0:
                continue
            msd[f"msd_{species}_A2"] = msd_fft(traj)
            window = (self.diffusion_window_ps[0], min(self.diffusion_window_ps[1], time_ps[-1]))
            rows.append(
                {
                    "species": species,
                    "n_particles": traj.shape[1],
                    "D_1e-9_m2_per_s": diffusion_coefficient(time_ps, msd[f"msd_{species}_A2"], window),
                    "fit_start_ps": window[0],
                    "fit_end_ps": window[1],
                }
            )
        return pd.DataFrame(rows), pd.DataFrame(msd)


def hydroxide_defect_trajectories(
    o_positions: np.ndarray, hydrogen_counts: np.ndarray, box_A: np.ndarray
) -> np.ndarray:
    """Unwrapped positions of each OH⁻ defect, followed through proton transfers.

    Frame to frame, the hydroxides of the previous frame are matched to those of the current one by
    minimum total minimum-image distance (Hungarian assignment); a defect moves by the minimum-image
    vector between its old and new oxygen, so a transfer displaces it by one O···O hop. Frames whose
    hydroxide count differs from the first frame's (transient H₃O⁺/OH⁻ pairs) leave the defects in place.
    """
    current = np.flatnonzero(hydrogen_counts[0] == 1)
    unwrapped = [o_positions[0, current]]
    for t in range(1, len(o_positions)):
        candidates = np.flatnonzero(hydrogen_counts[t] == 1)
        if len(candidates) != len(current):
            unwrapped.append(unwrapped[-1])
            continue
        delta = minimum_image(o_positions[t, candidates][None, :, :] - o_positions[t - 1, current][:, None, :], box_A)
        rows, cols = linear_sum_assignment(np.linalg.norm(delta, axis=-1))
        unwrapped.append(unwrapped[-1] + delta[rows, cols])
        current = candidates[cols]
    return np.array(unwrapped).reshape(len(o_positions), -1, 3)
