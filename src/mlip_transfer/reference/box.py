"""Periodic cubic boxes of an alkali hydroxide solution: M⁺, OH⁻ and H₂O.

Units: lengths in Å, densities in kg/m³, molarities in mol/L, molalities in mol/kg, mass fractions in wt %.
The density of the solution comes from its hydroxide's correlation (:mod:`mlip_transfer.chemistry`, with its
source and range); outside the range it is an extrapolation and a warning says so, and a hydroxide without
one needs the box length given.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from scipy.spatial.transform import Rotation

from ..chemistry import M_H2O_G_PER_MOL, Hydroxide
from ..geometry import minimum_image

AVOGADRO = 6.02214076e23
CORRELATION_TEMPERATURE_K = 298.15  # the density correlations are at 25 °C

# Gas-phase geometries (Å, degrees): water from experiment, hydroxide O–H from its vibrational spectrum.
WATER_OH_BOND_A = 0.9572
WATER_HOH_ANGLE_DEG = 104.52
HYDROXIDE_OH_BOND_A = 0.97


class BoxError(ValueError):
    """A box that cannot be built as asked."""


@dataclass(frozen=True)
class Composition:
    """Numbers of MOH formula units and water molecules in one box, and the cation M."""

    n_hydroxide: int
    n_water: int
    cation: str

    @property
    def hydroxide(self) -> Hydroxide:
        return Hydroxide(self.cation)

    @property
    def n_oxygen(self) -> int:
        return self.n_hydroxide + self.n_water

    @property
    def n_atoms(self) -> int:
        return 3 * self.n_hydroxide + 3 * self.n_water

    @property
    def mass_g_per_mol(self) -> float:
        return self.n_hydroxide * self.hydroxide.molar_mass_g_per_mol + self.n_water * M_H2O_G_PER_MOL

    @property
    def mass_percent(self) -> float:
        """Mass fraction of the hydroxide (wt %)."""
        return 100.0 * self.n_hydroxide * self.hydroxide.molar_mass_g_per_mol / self.mass_g_per_mol

    @property
    def molality_mol_per_kg(self) -> float:
        """Moles of MOH per kg of water: independent of the density, the better variable above ~10 mol/L."""
        return self.n_hydroxide / (self.n_water * M_H2O_G_PER_MOL / 1000.0)

    def __str__(self) -> str:
        return f"{self.n_hydroxide} {self.hydroxide.formula} + {self.n_water} H2O"


def correlated_density_kg_per_m3(composition: Composition) -> float:
    """Density of the composition from its hydroxide's correlation at 25 °C."""
    return composition.hydroxide.density_kg_per_m3(
        composition.mass_percent, composition.molality_mol_per_kg, CORRELATION_TEMPERATURE_K
    )


def composition_molarity(composition: Composition) -> float:
    """Molarity (mol/L) of a composition at the correlation's density."""
    grams_per_L = correlated_density_kg_per_m3(composition) * composition.mass_percent / 100.0  # kg/m³ == g/L
    return grams_per_L / composition.hydroxide.molar_mass_g_per_mol


def composition_for_molarity(
    molarity: float, n_oxygen: int, *, cation: str, oxygen_window: int = 0, tolerance: float | None = None
) -> Composition:
    """The MOH/water composition with ``n_oxygen`` ± ``oxygen_window`` oxygens whose molarity (at the
    correlation's density) is closest to the target; of equally close ones, the one nearest ``n_oxygen``.

    With a ``tolerance`` (relative), a best composition that still misses the target by more is an error
    that names the closest compositions: a box labelled 6.26 mol/L must be 6.26 mol/L."""
    if molarity <= 0:
        raise BoxError(f"molarity must be positive, got {molarity} mol/L")
    candidates = [
        Composition(n, total - n, cation)
        for total in range(max(n_oxygen - oxygen_window, 2), n_oxygen + oxygen_window + 1)
        for n in range(1, total)
    ]

    def miss(c: Composition) -> tuple[float, int]:
        return abs(composition_molarity(c) - molarity) / molarity, abs(c.n_oxygen - n_oxygen)

    candidates.sort(key=miss)
    best = candidates[0]
    best.hydroxide.warn_outside_density_range(molarity, best.molality_mol_per_kg)
    if tolerance is not None and miss(best)[0] > tolerance:
        closest = ", ".join(f"{c} ({composition_molarity(c):.3f} mol/L)" for c in candidates[:3])
        raise BoxError(
            f"no box of {n_oxygen} ± {oxygen_window} oxygens is within {100 * tolerance:g} % of {molarity} mol/L; "
            f"closest: {closest}. Widen the oxygen window, change n_oxygen, or give n_hydroxide and n_water"
        )
    return best


def box_molarity_mol_per_L(composition: Composition, box_length_A: float) -> float:
    """MOH molarity of a cubic box of the given edge."""
    return molarity_of_volume_mol_per_L(composition, box_length_A**3)


def molarity_of_volume_mol_per_L(composition: Composition, volume_A3: float) -> float:
    """MOH molarity of a box of the given volume."""
    return composition.n_hydroxide / AVOGADRO / (volume_A3 * 1e-27)


def composition_of_symbols(symbols: Sequence[str], cation: str) -> Composition:
    """The composition of a frame of M⁺, OH⁻ and water: n_hydroxide from the cations, n_water from the
    remaining oxygens; anything else (other elements, hydrogens that do not add up) is an error."""
    counts = Counter(symbols)
    foreign = sorted(set(counts) - {cation, "O", "H"})
    n_hydroxide, n_water = counts[cation], counts["O"] - counts[cation]
    if foreign or n_hydroxide < 1 or n_water < 1 or counts["H"] != 2 * n_water + n_hydroxide:
        raise BoxError(
            f"{dict(counts)} is not {cation}OH in water (n {cation} = n OH⁻, n O = n OH⁻ + n H2O, "
            f"n H = n OH⁻ + 2 n H2O{'; foreign elements ' + str(foreign) if foreign else ''})"
        )
    return Composition(n_hydroxide, n_water, cation)


def cubic_box_length_A(composition: Composition, density_kg_per_m3: float | None = None) -> float:
    """Edge of the cubic box that holds ``composition`` at the given (or correlated) density."""
    if density_kg_per_m3 is None:
        density_kg_per_m3 = correlated_density_kg_per_m3(composition)
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


def cation(symbol: str) -> Atoms:
    return Atoms(symbol, positions=[(0, 0, 0)])


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
    """Place M⁺, OH⁻ and H₂O without overlaps in a periodic cubic box, reproducibly from ``seed``.

    Molecule centres start from a shuffled cubic lattice with random jitter and orientation; a
    placement is accepted when every new atom is at least ``min_distance_A`` (minimum image) from
    every atom already placed, and O/M at least ``min_heavy_distance_A`` from other O/M (an O···O
    hydrogen bond is 2.5–2.8 Å; closer starts leave the AIMD hot).
    Atoms are ordered M, then OH⁻ (O, H), then water (O, H, H).
    """
    rng = np.random.default_rng(seed)
    molecules = [cation(composition.cation)] * composition.n_hydroxide + [hydroxide_ion()] * composition.n_hydroxide
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
