"""Transport of an alkali hydroxide solution: mean-square displacements, self-diffusion coefficients with
block errors and a check that the fit is diffusive, the Yeh–Hummer finite-size correction and the Nernst–Einstein
conductivity. :class:`Transport` accumulates cation, O and OH⁻-defect trajectories for
:class:`~mlip_transfer.analysis.solution.SolutionAnalysis`. Units: Å, ps; D in 10⁻⁹ m²/s, conductivity in S/m.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd
from ase.data import atomic_masses, atomic_numbers

from .. import chemistry
from .hbonds import hydroxide_defect_trajectories, persistence_frames
from .piece import Piece

A2_PER_PS_TO_1E9_M2_PER_S = 10.0  # 1 Å²/ps = 1e-8 m²/s = 10 × 1e-9 m²/s
DIFFUSIVE_SLOPE = (0.9, 1.1)  # log–log MSD slope of a trustworthy D fit (Maginn et al. 2019)
# what each species' D is of: "O" and "H" are all oxygens and all hydrogens (conserved particles)
SPECIES_PARTICLES = {"OH-": "hydroxide defects, through proton transfers", "O": "all oxygens", "H": "all hydrogens"}


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
    """Self-diffusion coefficient (10⁻⁹ m²/s) from a linear fit MSD = 6·D·t + c inside ``window_ps``; NaN where
    the window holds fewer than two MSD points (a run that stopped early: the config's windows are checked
    against its planned length before anything runs)."""
    mask = (time_ps >= window_ps[0]) & (time_ps <= window_ps[1])
    if mask.sum() < 2:
        return np.nan
    slope = np.polyfit(time_ps[mask], msd_A2[mask], 1)[0]
    return slope / 6.0 * A2_PER_PS_TO_1E9_M2_PER_S


def msd_loglog_slope(time_ps: np.ndarray, msd_A2: np.ndarray, window_ps: tuple[float, float]) -> float:
    """Slope of log MSD against log t inside ``window_ps``: 1 where motion is diffusive, 2 where it is still
    ballistic (Maginn et al., LiveCoMS 1, 6324 (2019)); a D fitted elsewhere is not a diffusion coefficient."""
    mask = (time_ps >= window_ps[0]) & (time_ps <= window_ps[1]) & (time_ps > 0) & (msd_A2 > 0)
    if mask.sum() < 2:
        return np.nan
    return float(np.polyfit(np.log(time_ps[mask]), np.log(msd_A2[mask]), 1)[0])


def why_not_diffusive(loglog_slope: float, window_ps: tuple[float, float], min_window_ps: float) -> str:
    """Why a D fitted in ``window_ps`` is not a diffusion coefficient to trust ("" where it is): a fit to trust
    has a log–log MSD slope within [0.9, 1.1] over a window at least ``min_window_ps`` long."""
    reasons = []
    if not DIFFUSIVE_SLOPE[0] <= loglog_slope <= DIFFUSIVE_SLOPE[1]:
        reasons.append(
            f"log-log MSD slope {loglog_slope:.2f} outside [{DIFFUSIVE_SLOPE[0]}, {DIFFUSIVE_SLOPE[1]}] (not diffusive)"
        )
    if window_ps[1] - window_ps[0] < min_window_ps:
        reasons.append(f"fit window {window_ps[1] - window_ps[0]:g} ps shorter than {min_window_ps:g} ps")
    return "; ".join(reasons)


NOT_GROWING = "the MSD does not grow in the fit window: no diffusion measured (D not given)"


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


def yeh_hummer_correction(temperature_K: float, viscosity_mPa_s: float, box_length_A: float) -> float:
    """Finite-size correction ξ·k_B·T/(6π·η·L) to add to a periodic-box D (10⁻⁹ m²/s), ξ = 2.837297."""
    kT = chemistry.BOLTZMANN_J_PER_K * temperature_K
    correction_m2_per_s = chemistry.YEH_HUMMER_XI * kT / (6 * np.pi * viscosity_mPa_s * 1e-3 * box_length_A * 1e-10)
    return correction_m2_per_s * 1e9


def nernst_einstein_conductivity_S_per_m(
    n_ion_pairs: int, volume_A3: float, temperature_K: float, d_cation: float, d_anion: float
) -> float:
    """σ = e²/(V·k_B·T)·N·(D₊ + D₋) for a 1:1 electrolyte; D in 10⁻⁹ m²/s."""
    e, kT = chemistry.ELEMENTARY_CHARGE_C, chemistry.BOLTZMANN_J_PER_K * temperature_K
    return e**2 * n_ion_pairs * (d_cation + d_anion) * 1e-9 / (volume_A3 * 1e-30 * kT)


def einstein_helfand_conductivity_S_per_m(
    charge_displacement_A: np.ndarray,
    frame_interval_ps: float,
    window_ps: tuple[float, float],
    n_blocks: int,
    volume_A3: float,
    temperature_K: float,
) -> tuple[float, float]:
    """Collective (Einstein–Helfand) conductivity σ = e²/(6 V k_B T) · d⟨|ΔM|²⟩/dt and its block error, from
    the translational charge displacement M(t) = Σ q_i r_i(t) in units of e·Å (n_frames, 3). Unlike
    Nernst–Einstein it keeps the ion–ion correlations; for uncorrelated ions the two agree."""
    d_collective, error = block_diffusion(charge_displacement_A[:, None, :], frame_interval_ps, window_ps, n_blocks)
    to_sigma = nernst_einstein_conductivity_S_per_m(1, volume_A3, temperature_K, 1.0, 0.0)  # per 1e-9 m²/s
    return d_collective * to_sigma, error * to_sigma


@dataclass
class Transport:
    """Cation, oxygen, hydrogen and OH⁻-defect trajectories, concluded into MSDs and a table of D per species
    (with block errors, the log–log MSD slope and whether the fit is diffusive), the Yeh–Hummer corrected D
    where a viscosity is given, and the Nernst–Einstein and Einstein–Helfand conductivities.

    Every trajectory has the centre-of-mass drift of the whole box removed first (a Langevin thermostat does
    not conserve momentum). D is given for the cation, the OH⁻ defect (followed through proton transfers),
    all oxygens and all hydrogens: oxygens and hydrogens are conserved particles, whereas "always water"
    oxygens would be almost none at high concentration, where nearly every oxygen hosts OH⁻ for a while.

    ``diffusion_window_ps``: MSD fit window; ``min_diffusion_window_ps``: shortest window whose D counts as
    diffusive; ``n_blocks``: segments for the error of D; ``viscosity_mPa_s``: shear viscosity for the
    Yeh–Hummer correction (None: no correction); ``max_defect_mismatch_fraction``: largest share of frames whose
    OH⁻ count differs from the first frame's (defects carried on their hosts there) for D(OH⁻) to be trusted;
    ``persistence_ps``: shortest stay on a new oxygen that moves an OH⁻ defect (shorter visits are a proton
    rattling, not transport)."""

    needs: ClassVar[tuple[str, ...]] = ()
    gives: ClassVar[tuple[str, ...]] = ("diffusion", "msd", "hydroxide_hosts")
    box_A: np.ndarray
    frame_interval_ps: float
    temperature_K: float
    diffusion_window_ps: tuple[float, float]
    min_diffusion_window_ps: float
    n_blocks: int
    viscosity_mPa_s: float | None
    cation: str
    max_defect_mismatch_fraction: float = 0.05
    persistence_ps: float = 0.0
    _positions: dict[str, list[np.ndarray]] = field(default_factory=lambda: {"M": [], "O": [], "H": []}, init=False)
    _hydrogen_counts: list[np.ndarray] = field(default_factory=list, init=False)

    def accumulate(self, piece: Piece) -> None:
        """Add a piece's unwrapped cation, O and H positions and its hydrogens per oxygen."""
        for kind, chunks in self._positions.items():
            chunks.append(piece.positions[:, piece.index[kind]])
        self._hydrogen_counts.append(piece.counts)

    def conclude(self, results: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        """Tables ``diffusion`` and ``msd`` (Å² against time in ps), and ``hydroxide_hosts``: the host oxygen of
        each OH⁻ defect per frame, followed through proton transfers (for the H-bond summary)."""
        positions = self._without_drift({kind: np.concatenate(chunks) for kind, chunks in self._positions.items()})
        counts = np.concatenate(self._hydrogen_counts)
        hydroxide_positions, hosts = hydroxide_defect_trajectories(
            positions["O"], counts, self.box_A, persistence_frames(self.persistence_ps, self.frame_interval_ps)
        )
        n_hydroxide = (counts == 1).sum(axis=1)
        mismatch = float(np.mean(n_hydroxide != n_hydroxide[0]))
        ion = f"{self.cation}+"
        trajectories = {ion: positions["M"], "OH-": hydroxide_positions, "O": positions["O"], "H": positions["H"]}
        time_ps = np.arange(len(counts)) * self.frame_interval_ps
        window = (self.diffusion_window_ps[0], min(self.diffusion_window_ps[1], time_ps[-1]))
        msd, rows = {"time_ps": time_ps}, []
        for species, traj in trajectories.items():
            if traj.shape[1] == 0:
                continue
            msd[f"msd_{species}_A2"] = msd_fft(traj)
            tracked = species != "OH-" or mismatch <= self.max_defect_mismatch_fraction
            rows.append(self._diffusion_row(species, traj, time_ps, msd[f"msd_{species}_A2"], window, tracked))
        table = pd.DataFrame(rows)
        table["defect_count_mismatch_fraction"] = mismatch
        self._nernst_einstein(table, ion, trajectories[ion].shape[1])
        # the translational charge displacement: +1 e per cation, −1 e per OH⁻ defect
        charge = positions["M"].sum(axis=1) - hydroxide_positions.sum(axis=1)
        sigma, sigma_error = einstein_helfand_conductivity_S_per_m(
            charge, self.frame_interval_ps, window, self.n_blocks, self.volume_A3, self.temperature_K
        )
        if not sigma > 0:  # the charge displacement's MSD falls in the window: no conductivity measured
            sigma, sigma_error = np.nan, np.nan
        msd["msd_charge_eA2"] = msd_fft(charge[:, None, :])
        table["einstein_helfand_S_per_m"] = sigma
        table["einstein_helfand_error_S_per_m"] = sigma_error
        table["einstein_helfand_over_nernst_einstein"] = sigma / table["nernst_einstein_S_per_m"]
        return {"diffusion": table, "msd": pd.DataFrame(msd), "hydroxide_hosts": pd.DataFrame(hosts)}

    @property
    def volume_A3(self) -> float:
        return float(np.prod(self.box_A))

    def _without_drift(self, positions: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Positions in the frame of the box's centre of mass (the thermostat lets it drift)."""
        masses = {kind: atomic_masses[atomic_numbers[self.cation if kind == "M" else kind]] for kind in positions}
        centre = sum(masses[k] * p.sum(axis=1) for k, p in positions.items()) / sum(
            masses[k] * p.shape[1] for k, p in positions.items()
        )
        drift = (centre - centre[0])[:, None, :]
        return {kind: p - drift for kind, p in positions.items()}

    def _diffusion_row(
        self,
        species: str,
        trajectory: np.ndarray,
        time_ps: np.ndarray,
        msd_A2: np.ndarray,
        window: tuple[float, float],
        tracked: bool,
    ) -> dict:
        """D of one species from its MSD in the fit window, its block error and whether it is diffusive."""
        d, error = block_diffusion(trajectory, self.frame_interval_ps, window, self.n_blocks)
        slope = msd_loglog_slope(time_ps, msd_A2, window)
        why = [why_not_diffusive(slope, window, self.min_diffusion_window_ps)]
        if not tracked:
            why.append(f"the OH⁻ count changes in more than {self.max_defect_mismatch_fraction:.0%} of frames")
        if not d > 0:  # a falling MSD (noise over too short a window) has no diffusion coefficient
            d, error = np.nan, np.nan
            why.append(NOT_GROWING)
        correction = (
            yeh_hummer_correction(self.temperature_K, self.viscosity_mPa_s, self.volume_A3 ** (1 / 3))
            if self.viscosity_mPa_s
            else np.nan
        )
        return {
            "species": species,
            "particles": SPECIES_PARTICLES.get(species, "cations"),
            "n_particles": trajectory.shape[1],
            "D_1e-9_m2_per_s": d,
            "D_error_1e-9_m2_per_s": error,
            "D_yeh_hummer_1e-9_m2_per_s": d + correction,
            "fit_start_ps": window[0],
            "fit_end_ps": window[1],
            "msd_points_in_fit": int(((time_ps >= window[0]) & (time_ps <= window[1])).sum()),
            "msd_loglog_slope": slope,
            "diffusive": not any(why),
            "not_diffusive_because": "; ".join(w for w in why if w),
        }

    def _nernst_einstein(self, table: pd.DataFrame, ion: str, n_ion_pairs: int) -> None:
        """Nernst–Einstein conductivity columns: from finite-size-corrected D where a viscosity was given,
        else from the box's D."""
        d_column = "D_yeh_hummer_1e-9_m2_per_s" if self.viscosity_mPa_s else "D_1e-9_m2_per_s"
        d_of = dict(zip(table["species"], table[d_column], strict=True))
        table["nernst_einstein_from"] = d_column
        ions = table[table["species"].isin([ion, "OH-"])]
        table["nernst_einstein_diffusive"] = len(ions) == 2 and bool(ions["diffusive"].all())
        table["nernst_einstein_S_per_m"] = nernst_einstein_conductivity_S_per_m(
            n_ion_pairs, self.volume_A3, self.temperature_K, d_of.get(ion, np.nan), d_of.get("OH-", np.nan)
        )
