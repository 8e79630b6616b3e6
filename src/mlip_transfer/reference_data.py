"""Experimental reference data for KOH(aq), each value with its source (``data/experimental.yaml``),
and the experimental correlations of Gilliam et al. (2007).

Units: D in 10⁻⁹ m²/s, conductivity in S/m, viscosity in mPa·s, density in kg/m³, molarity in mol/L.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import yaml

BOLTZMANN_J_PER_K = 1.380649e-23
ELEMENTARY_CHARGE_C = 1.602176634e-19
# Yeh & Hummer, J. Phys. Chem. B 108, 15873 (2004): D∞ = D_PBC + ξ k_B T / (6π η L) for cubic boxes.
YEH_HUMMER_XI = 2.837297


@cache
def experimental() -> dict:
    """The experimental values and their sources."""
    return yaml.safe_load(files("mlip_transfer").joinpath("data/experimental.yaml").read_text())


def koh_conductivity_S_per_m(molarity: float, temperature_K: float) -> float:
    """Specific conductivity of KOH(aq), Gilliam et al., Int. J. Hydrogen Energy 32, 359 (2007),
    doi:10.1016/j.ijhydene.2006.10.062, fitted for 0–12 mol/L and 0–100 °C (the paper gives S/cm)."""
    m, t = molarity, temperature_K
    s_per_cm = -2.041 * m - 0.0028 * m**2 + 0.005332 * m * t + 207.2 * m / t + 0.001043 * m**3 - 0.0000003 * m**2 * t**2
    return 100.0 * s_per_cm
