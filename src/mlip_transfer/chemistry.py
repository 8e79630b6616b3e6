"""The solution's chemistry: which alkali hydroxide MOH(aq) a study simulates (config ``cation``: Li, Na, K,
Rb or Cs), its elements, masses and ions, and what is known of it experimentally — density, conductivity,
solubility, diffusion at infinite dilution — each with its source and fitted range
(``data/hydroxides.yaml``). A correlation is used only inside its range: outside it a density is
extrapolated with a warning, and a conductivity is not given.

Units: density in kg/m³, molarity in mol/L, molality in mol/kg, mass fraction in wt %, D in 10⁻⁹ m²/s,
conductivity in S/m, viscosity in mPa·s, temperature in K.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import numpy as np
import yaml
from ase.data import atomic_masses, atomic_numbers

BOLTZMANN_J_PER_K = 1.380649e-23
ELEMENTARY_CHARGE_C = 1.602176634e-19
# Yeh & Hummer, J. Phys. Chem. B 108, 15873 (2004): D∞ = D_PBC + ξ k_B T / (6π η L) for cubic boxes.
YEH_HUMMER_XI = 2.837297
CATIONS = ("Li", "Na", "K", "Rb", "Cs")
# Ground-state spin multiplicities of the isolated atoms (MACE's E0s): H ²S, O ³P, the alkali metals ns¹ ²S.
ISOLATED_ATOM_MULTIPLICITY = {"H": 2, "O": 3, **dict.fromkeys(CATIONS, 2)}
M_H2O_G_PER_MOL = 2 * atomic_masses[1] + atomic_masses[8]


class ChemistryError(ValueError):
    """A quantity the data file does not give for this hydroxide, or a cation it does not know."""


@cache
def data() -> dict:
    """Everything ``data/hydroxides.yaml`` holds: per cation, water and hydroxide, with sources."""
    return yaml.safe_load(files("mlip_transfer").joinpath("data/hydroxides.yaml").read_text())


@dataclass(frozen=True)
class Hydroxide:
    """An alkali hydroxide MOH: its cation M⁺, hydroxide OH⁻."""

    cation: str

    def __post_init__(self):
        if self.cation not in CATIONS:
            raise ChemistryError(f"cation {self.cation!r}: not an alkali metal of {CATIONS}")

    @property
    def formula(self) -> str:
        return f"{self.cation}OH"

    @property
    def ion(self) -> str:
        """The cation's species label in tables ("K+")."""
        return f"{self.cation}+"

    @property
    def elements(self) -> list[str]:
        """The elements of the solution, by atomic number."""
        return sorted({"H", "O", self.cation}, key=lambda s: atomic_numbers[s])

    @property
    def atomic_numbers(self) -> list[int]:
        return [atomic_numbers[s] for s in self.elements]

    @property
    def molar_mass_g_per_mol(self) -> float:
        return sum(atomic_masses[atomic_numbers[s]] for s in (self.cation, "O", "H"))

    @property
    def known(self) -> dict:
        """This hydroxide's entry in the data file (with sources)."""
        return data()["cations"][self.cation]

    @property
    def solubility_mol_per_L(self) -> float | None:
        entry = self.known.get("solubility_25C_mol_per_L")
        return entry["value"] if entry else None

    def infinite_dilution_diffusion(self) -> dict[str, dict]:
        """D at infinite dilution (10⁻⁹ m²/s, with source) of each species of the solution."""
        d = "infinite_dilution_diffusion_1e-9_m2_per_s"
        return {self.ion: self.known[d], "OH-": data()["hydroxide"][d], "H2O": data()["water"][d]}

    def has_density(self) -> bool:
        return "density" in self.known

    def density_kg_per_m3(self, mass_percent: float, molality_mol_per_kg: float, temperature_K: float) -> float:
        """Density of the solution from this hydroxide's correlation, with a warning outside its fitted range
        or temperature; an error naming the cation where the data file has none."""
        if not self.has_density():
            raise ChemistryError(
                f"no density correlation of {self.formula}(aq) is known (data/hydroxides.yaml): give box_length_A "
                "with n_hydroxide and n_water for each concentration"
            )
        entry = self.known["density"]
        if abs(temperature_K - entry["temperature_K"]) > 5.0:
            warnings.warn(
                f"the {self.formula}(aq) density correlation holds at {entry['temperature_K']} K; "
                f"{temperature_K} K is outside it",
                stacklevel=2,
            )
        if entry["kind"] == "exponential_in_mass_percent":
            return entry["A_kg_per_m3"] * math.exp(entry["b_per_wt_percent"] * mass_percent)
        if entry["kind"] == "tabulated_in_molality":
            m, rho = np.array(entry["molality_mol_per_kg"]), 1000.0 * np.array(entry["density_g_per_cm3"])
            if molality_mol_per_kg > m[-1]:  # beyond the table: its last slope (the range check warns)
                return float(rho[-1] + (rho[-1] - rho[-2]) / (m[-1] - m[-2]) * (molality_mol_per_kg - m[-1]))
            return float(np.interp(molality_mol_per_kg, m, rho))
        raise ChemistryError(f"unknown density correlation kind {entry['kind']!r} of {self.formula}")

    def warn_outside_density_range(self, molarity_mol_per_L: float, molality_mol_per_kg: float) -> None:
        entry = self.known.get("density", {})
        for key, value, unit in (
            ("valid_molarity_mol_per_L", molarity_mol_per_L, "mol/L"),
            ("valid_molality_mol_per_kg", molality_mol_per_kg, "mol/kg"),
        ):
            if key in entry and not entry[key][0] <= value <= entry[key][1]:
                low, high = entry[key]
                warnings.warn(
                    f"{value:.3g} {unit} is outside the {low}–{high} {unit} of the {self.formula}(aq) density "
                    f"correlation ({entry['source']}); density extrapolated",
                    stacklevel=3,
                )

    def conductivity_S_per_m(self, molarity_mol_per_L: float, temperature_K: float) -> float:
        """Experimental specific conductivity, inside the correlation's fitted range only (NaN outside it, or
        where none is known)."""
        entry = self.known.get("conductivity")
        if not entry:
            return math.nan
        (m0, m1), (t0, t1) = entry["valid_molarity_mol_per_L"], entry["valid_temperature_K"]
        if not (m0 <= molarity_mol_per_L <= m1 and t0 <= temperature_K <= t1):
            return math.nan
        m, t = molarity_mol_per_L, temperature_K
        s_per_cm = -2.041 * m - 0.0028 * m**2 + 0.005332 * m * t + 207.2 * m / t + 0.001043 * m**3 - 3e-7 * m**2 * t**2
        return 100.0 * s_per_cm  # Gilliam et al. give S/cm
