"""The isolated-atom energies of the reference method (MACE's ``--E0s``): one JSON file mapping atomic numbers
to energies in eV, written once from the CP2K isolated-atom runs and read by training and evaluation."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from ..files import atomic_path


def write_e0s_eV(path: str | os.PathLike, e0s_eV: Mapping[int, float]) -> None:
    """Write ``{atomic number: energy (eV)}``."""
    with atomic_path(path) as partial:
        partial.write_text(json.dumps({int(z): float(e) for z, e in e0s_eV.items()}, indent=1) + "\n")


def write_atom_energy_eV(path: str | os.PathLike, energy_eV: float) -> None:
    """One isolated atom's energy (eV), as the run that computed it gives it."""
    with atomic_path(path) as partial:
        partial.write_text(f"{energy_eV!r}\n")


def read_atom_energy_eV(path: str | os.PathLike) -> float:
    return float(Path(path).read_text())


def read_e0s_eV(path: str | os.PathLike) -> dict[int, float]:
    """``{atomic number: energy (eV)}`` of a file from :func:`write_e0s_eV`."""
    return {int(z): float(e) for z, e in json.loads(Path(path).read_text()).items()}
