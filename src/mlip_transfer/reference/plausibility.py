"""Physical plausibility of AIMD frames, checked by the job that first reads them (the import of an existing
archive, the extraction of a computed AIMD): a wrong unit, cell or file would otherwise reach every fine-tune.

Each frame is held against :class:`~mlip_transfer.limits.FrameLimits` (the config's ``frame_checks``):

- the closest pair of atoms under periodic boundaries (Å): atoms closer than any bond stretches mean a cell too
  small for the positions, or forces read as positions;
- the binding energy per atom, (E − Σ E0)/N with the study's isolated-atom energies E0 (eV/atom): energies in
  eV read as Hartree are 27.2 times too large, E0s of another method shift it by many eV per atom;
- the root-mean-square force component and the largest force on one atom (eV/Å): forces in eV/Å read as
  Hartree/Bohr are 51.4 times too large.

A frame outside a limit is refused with :class:`ImplausibleFrame`, naming where it was read, the atoms and the
likely cause; where dividing or multiplying by a unit's factor brings a value into its band, that factor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from ase import Atoms

from ..geometry import ClosestPairs
from ..limits import FrameLimits
from .cp2k_output import HARTREE_EV, HARTREE_PER_BOHR_EV_PER_A


class ImplausibleFrame(ValueError):
    """A frame that cannot be aqueous hydroxide AIMD (the message names where it was read, the atoms and the
    likely cause)."""


class FrameCheck:
    """Checks the frames of one trajectory against ``limits`` with the study's E0s (``{atomic number: eV}``),
    and keeps the range each quantity spanned over the frames checked (for the job's log)."""

    def __init__(self, limits: FrameLimits, e0s_eV: Mapping[int, float]):
        self.limits = limits
        self.e0_eV = np.full(119, np.nan)  # by atomic number: one lookup sums a frame's E0s
        for z, energy in e0s_eV.items():
            self.e0_eV[int(z)] = energy
        self.closest_pair = ClosestPairs()  # consecutive frames: one neighbour list serves several
        self.frames = 0
        self.ranges: dict[str, tuple[float, float]] = {}

    def __call__(self, atoms: Atoms, energy_eV: float, forces_eV_per_A: np.ndarray, where: str) -> None:
        """Refuse the frame ``atoms`` with its energy (eV) and forces (eV/Å) if any quantity is outside its
        limit; ``where`` names the file and frame."""
        problems = [
            problem
            for problem in (
                self._closest_pair(atoms),
                self._binding_energy(atoms, energy_eV),
                self._forces(atoms, np.asarray(forces_eV_per_A)),
            )
            if problem
        ]
        if problems:
            raise ImplausibleFrame(f"{where}: {'; '.join(problems)}")
        self.frames += 1

    def summary(self) -> str:
        """How many frames passed, and the range of each quantity over the frames checked."""
        shown = {
            "closest pair": ("closest_pair_A", "Å"),
            "binding energy": ("binding_eV_per_atom", "eV/atom"),
            "RMS force component": ("rms_force_eV_per_A", "eV/Å"),
            "largest atom force": ("max_force_eV_per_A", "eV/Å"),
        }
        ranges = ", ".join(
            f"{name} {self.ranges[key][0]:.3f} to {self.ranges[key][1]:.3f} {unit}"
            for name, (key, unit) in shown.items()
            if key in self.ranges
        )
        return f"{self.frames} frames: {ranges}"

    def _seen(self, key: str, value: float) -> None:
        low, high = self.ranges.get(key, (value, value))
        self.ranges[key] = (min(low, value), max(high, value))

    def _closest_pair(self, atoms: Atoms) -> str | None:
        box = np.diag(atoms.cell.array)  # orthorhombic: the import refuses other cells, the box builder makes none
        distance, i, j = self.closest_pair(atoms.positions, box)
        self._seen("closest_pair_A", distance)
        floor = self.limits.min_pair_distance_A
        if distance >= floor:
            return None
        return (
            f"atoms {_atom(atoms, i)} and {_atom(atoms, j)} are {distance:.3f} Å apart (minimum image in the "
            f"{' × '.join(f'{x:g}' for x in box)} Å cell), below frame_checks.min_pair_distance_A = {floor} Å: "
            "a wrong cell or swapped position/forces files?"
        )

    def _binding_energy(self, atoms: Atoms, energy_eV: float) -> str | None:
        e0_sum = self.e0_eV[atoms.numbers].sum()
        if np.isnan(e0_sum):
            lacking = sorted({s for s, z in zip(atoms.symbols, atoms.numbers, strict=True) if np.isnan(self.e0_eV[z])})
            return f"the E0s have no energy for {lacking}"
        n = len(atoms)
        binding = (energy_eV - e0_sum) / n
        self._seen("binding_eV_per_atom", binding)
        low, high = self.limits.binding_energy_eV_per_atom
        if low <= binding <= high:
            return None
        stated = (
            f"binding energy {binding:.4g} eV/atom ((E − ΣE0)/N: E = {energy_eV:.8g} eV, ΣE0 = {e0_sum:.8g} eV, "
            f"{n} atoms {atoms.get_chemical_formula()}) is outside frame_checks.binding_energy_eV_per_atom "
            f"[{low:g}, {high:g}]"
        )
        unit = _unit_off(
            lambda scale: low <= (energy_eV * scale - e0_sum) / n <= high,
            HARTREE_EV,
            "energies",
            "energy_unit",
            ("eV", "Hartree"),
        )
        return f"{stated}: {unit or 'are the E0s of the frames’ method, and the energies total potential energies?'}"

    def _forces(self, atoms: Atoms, forces: np.ndarray) -> str | None:
        rms = float(np.sqrt(np.mean(forces * forces)))
        norms = np.sqrt(np.einsum("ac,ac->a", forces, forces))
        k = int(np.argmax(norms))
        self._seen("rms_force_eV_per_A", rms)
        self._seen("max_force_eV_per_A", float(norms[k]))
        if self._forces_fit(rms, norms[k]):
            return None
        low, high = self.limits.rms_force_eV_per_A
        stated = (
            f"RMS force component {rms:.4g} eV/Å (frame_checks.rms_force_eV_per_A [{low:g}, {high:g}]), largest on "
            f"atom {_atom(atoms, k)}: {norms[k]:.4g} eV/Å (frame_checks.max_force_eV_per_A "
            f"{self.limits.max_force_eV_per_A:g})"
        )
        unit = _unit_off(
            lambda scale: self._forces_fit(rms * scale, norms[k] * scale),
            HARTREE_PER_BOHR_EV_PER_A,
            "forces",
            "forces_unit",
            ("eV/Å", "Hartree/Bohr"),
        )
        return f"{stated}: {unit or 'are these the forces of these positions?'}"

    def _forces_fit(self, rms: float, largest: float) -> bool:
        low, high = self.limits.rms_force_eV_per_A
        return low <= rms <= high and largest <= self.limits.max_force_eV_per_A


def _unit_off(
    fits: Callable[[float], bool], factor: float, values: str, unit_key: str, units: tuple[str, str]
) -> str | None:
    """Which way ``values`` are off by ``factor``, the size of the atomic unit in the frames' (``units``: the
    frames' and the atomic unit): where scaling them by it makes them ``fits``; None where neither way does."""
    unit, atomic = units
    for scale, off, misread in (
        (1 / factor, "too large", f"{unit} read as {atomic}"),
        (factor, "too small", f"{atomic} read as {unit}"),
    ):
        if fits(scale):
            return f"{values} look ×{factor:.1f} off ({off}: {misread}?): is {unit_key} right?"
    return None


def _atom(atoms: Atoms, index: int) -> str:
    return f"{index} ({atoms.symbols[index]})"
