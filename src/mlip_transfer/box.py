"""Periodic cubic boxes of K⁺, OH⁻ and H₂O.

Units: lengths in Å, densities in kg/m³, molarities in mol/L, mass fractions in wt %.
The density of KOH(aq) comes from the empirical correlation of Gilliam et al., Int. J. Hydrogen
Energy 32 (2007) 359: ρ = A(T)·exp(0.0086·w) with w in wt % and A(25 °C) = 997.03 kg/m³, fitted
for 0–12 mol/L; outside that range it is an extrapolation and a warning says so.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.data import atomic_masses, atomic_numbers
from scipy.spatial.transform import Rotation

from .geometry import minimum_image

AVOGADRO = 6.02214076e23
GILLIAM_A_25C_KG_PER_M3 = 997.03
GILLIAM_EXPONENT_PER_WT_PERCENT = 0.0086
GILLIAM_VALID_MOLARITY_MOL_PER_L = (0.0, 12.0)
GILLIAM_TEMPERATURE_K = 298.15

M_KOH_G_PER_MOL = sum(atomic_masses[atomic_numbers[s]] for s in "KOH")
M_H2O_G_PER_MOL = 2 * atomic_masses[1] + atomic_masses[8]

# Gas-phase geometries (Å, degrees): water from experiment, hydroxide O–H from its vibrational spectrum.
WATER_OH_BOND_A = 0.9572
WATER_HOH_ANGLE_DEG = 104.52
HYDROXIDE_OH_BOND_A = 0.97


class BoxError(ValueError):
    """A box that cannot be built as asked."""


@dataclass(frozen=True)
class Composition:
    """Numbers of KOH formula units and water molecules in one box."""

    n_koh: int
    n_water: int

    @property
    def n_oxygen(self) -> int:
        return self.n_koh + self.n_water

    @property
    def n_atoms(self) -> int:
        return 3 * self.n_koh + 3 * self.n_water

    @property
    def mass_g_per_mol(self) -> float:
        return self.n_koh * M_KOH_G_PER_MOL + self.n_water * M_H2O_G_PER_MOL

    @property
    def koh_mass_percent(self) -> float:
        return 100.0 * self.n_koh * M_KOH_G_PER_MOL / self.mass_g_per_mol


def koh_density_kg_per_m3(koh_mass_percent: float, temperature_K: float = GILLIAM_TEMPERATURE_K) -> float:
    """Density of KOH(aq) from the Gilliam et al. (2007) correlation at 25 °C."""
    if abs(temperature_K - GILLIAM_TEMPERATURE_K) > 5.0:
        warnings.warn(
            f"the KOH(aq) density correlation is used at 25 °C; {temperature_K} K is outside it",
            stacklevel=2,
        )
    return GILLIAM_A_25C_KG_PER_M3 * math.exp(GILLIAM_EXPONENT_PER_WT_PERCENT * koh_mass_percent)


def molarity_mol_per_L(koh_mass_percent: float, density_kg_per_m3: float) -> float:
    """KOH molarity of a solution of the given mass fraction and density."""
    grams_koh_per_L = density_kg_per_m3 * koh_mass_percent / 100.0  # kg/m³ == g/L
    return grams_koh_per_L / M_KOH_G_PER_MOL


def warn_outside_correlation(molarity: float) -> None:
    lo_molar, hi_molar = GILLIAM_VALID_MOLARITY_MOL_PER_L
    if not lo_molar < molarity <= hi_molar:
        warnings.warn(
            f"{molarity} mol/L is outside the 0–12 mol/L fitted by Gilliam et al. (2007); density extrapolated",
            stacklevel=3,
        )


def composition_for_molarity(
    molarity: float, n_oxygen: int, oxygen_window: int = 0, tolerance: float | None = None
) -> Composition:
    """The KOH/water composition with ``n_oxygen`` ± ``oxygen_window`` oxygens whose molarity (at the
    correlation's density) is closest to the target; of equally close ones, the one nearest ``n_oxygen``.

    With a ``tolerance`` (relative), a best composition that still misses the target by more is an error
    that names the closest compositions: a box labelled 6.26 mol/L must be 6.26 mol/L."""
    if molarity <= 0:
        raise BoxError(f"molarity must be positive, got {molarity} mol/L")
    warn_outside_correlation(molarity)
    candidates = [
        Composition(n_koh, total - n_koh)
        for total in range(max(n_oxygen - oxygen_window, 2), n_oxygen + oxygen_window + 1)
        for n_koh in range(1, total)
    ]

    def miss(c: Composition) -> tuple[float, int]:
        return abs(composition_molarity(c) - molarity) / molarity, abs(c.n_oxygen - n_oxygen)

    candidates.sort(key=miss)
    best = candidates[0]
    if tolerance is not None and miss(best)[0] > tolerance:
        closest = ", ".join(
            f"{c.n_koh} KOH + {c.n_water} H2O ({composition_molarity(c):.3f} mol/L)" for c in candidates[:3]
        )
        raise BoxError(
            f"no box of {n_oxygen} ± {oxygen_window} oxygens is within {100 * tolerance:g} % of {molarity} mol/L; "
            f"closest: {closest}. Widen the oxygen window, change n_oxygen, or give n_koh and n_water"
        )
    return best


def molality_mol_per_kg(composition: Composition) -> float:
    """Moles of KOH per kg of water: independent of the density, the better variable above ~10 mol/L."""
    return composition.n_koh / (composition.n_water * M_H2O_G_PER_MOL / 1000.0)


def box_molarity_mol_per_L(composition: Composition, box_length_A: float) -> float:
    """KOH molarity of a cubic box of the given edge."""
    return composition.n_koh / AVOGADRO / (box_length_A**3 * 1e-27)


def composition_molarity(composition: Composition) -> float:
    """Molarity (mol/L) of a composition at the correlation's density."""
    w = composition.koh_mass_percent
    return molarity_mol_per_L(w, koh_density_kg_per_m3(w))


def cubic_box_length_A(composition: Composition, density_kg_per_m3: float | None = None) -> float:
    """Edge of the cubic box that holds ``composition`` at the given (or correlated) density."""
    if density_kg_per_m3 is None:
        density_kg_per_m3 = koh_density_kg_per_m3(composition.koh_mass_percent)
    mass_kg = composition.mass_g_per_mol / AVOGADRO / 1000.0
    volume_A3 = mass_kg / density_kg_per_m3 * 1e30
    return volume_A3 ** (1.0 / 3.0)


def water_molecule() -> Atoms:
    half = math.radians(WATER_HOH_ANGLE_DEG) / 2
    d = WATER_OH_BOND_A
    return Atoms(
        "OH2",
        positions=[
            (0, 0, 0),
            (d * math.sin(half), d * math.cos(half), 0),
            (-d * math.sin(half), d * math.cos(half), 0),
        ],
    )


def hydroxide_ion() -> Atoms:
    return Atoms("OH", positions=[(0, 0, 0), (0, 0, HYDROXIDE_OH_BOND_A)])


def potassium_ion() -> Atoms:
    return Atoms("K", positions=[(0, 0, 0)])


def _min_image_distances(points: np.ndarray, others: np.ndarray, box_length: float) -> np.ndarray:
    return np.linalg.norm(minimum_image(points[:, None, :] - others[None, :, :], np.full(3, box_length)), axis=-1)


def build_box(
    composition: Composition,
    box_length_A: float,
    seed: int,
    min_distance_A: float = 1.6,
    min_heavy_distance_A: float = 2.2,
    attempts_per_molecule: int = 2000,
) -> Atoms:
    """Place K⁺, OH⁻ and H₂O without overlaps in a periodic cubic box, reproducibly from ``seed``.

    Molecule centres start from a shuffled cubic lattice with random jitter and orientation; a
    placement is accepted when every new atom is at least ``min_distance_A`` (minimum image) from
    every atom already placed, and O/K at least ``min_heavy_distance_A`` from other O/K (an O···O
    hydrogen bond is 2.5–2.8 Å; closer starts leave the AIMD hot).
    Atoms are ordered K, then OH⁻ (O, H), then water (O, H, H).
    """
    rng = np.random.default_rng(seed)
    molecules = [potassium_ion()] * composition.n_koh + [hydroxide_ion()] * composition.n_koh
    molecules += [water_molecule()] * composition.n_water
    n_sites = math.ceil(len(molecules) ** (1 / 3))
    spacing = box_length_A / n_sites
    grid = (np.indices((n_sites,) * 3).reshape(3, -1).T + 0.5) * spacing
    free_sites = list(rng.permutation(len(grid)))

    symbols: list[str] = []
    placed = np.empty((0, 3))
    placed_heavy = np.empty(0, dtype=bool)
    for molecule in molecules:
        for attempt in range(attempts_per_molecule):
            site = free_sites[attempt % len(free_sites)]
            centre = grid[site] + rng.uniform(-0.3, 0.3, 3) * spacing
            rotation = Rotation.random(random_state=rng.integers(2**32))
            trial = rotation.apply(molecule.positions - molecule.positions.mean(axis=0)) + centre
            heavy = np.array([n != 1 for n in molecule.numbers])
            distances = _min_image_distances(trial, placed, box_length_A)
            limits = np.where(heavy[:, None] & placed_heavy[None, :], min_heavy_distance_A, min_distance_A)
            if np.all(distances >= limits):
                break
        else:
            raise BoxError(
                f"could not place {molecule.get_chemical_formula()} in a {box_length_A:.2f} Å box after "
                f"{attempts_per_molecule} attempts (min distances {min_distance_A}/{min_heavy_distance_A} Å): "
                "box too dense"
            )
        free_sites.remove(site)
        symbols += molecule.get_chemical_symbols()
        placed = np.vstack([placed, trial])
        placed_heavy = np.concatenate([placed_heavy, heavy])
    atoms = Atoms(symbols, positions=placed, cell=[box_length_A] * 3, pbc=True)
    atoms.wrap()
    return atoms
