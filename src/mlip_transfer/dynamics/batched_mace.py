"""A MACE model for torch-sim that treats a batch of boxes as one graph: one neighbour-list call per step for
every box, on the model's device, and energies and forces only.

torch-sim 0.3.0's own wrapper (``torch_sim.models.mace.MaceModel``) loops over the boxes in Python every step
and builds each box's neighbour list with vesin, which copies positions to the host in float64 and back; it
also computes the stress unless told not to. Here the neighbour list of all boxes comes from torch-sim's
batched, on-device search (``torch_sim.neighbors.torch_nl_linked_cell``: a linked-cell search over every box at
once, keyed by ``system_idx``), the one-hot element table is built once, and MACE is asked for forces only.

Units are ASE's, which torch-sim and MACE share: Å, eV, eV/Å.
"""

from __future__ import annotations

import torch
from torch_sim.models.interface import ModelInterface
from torch_sim.neighbors import torch_nl_linked_cell, torch_nl_n2

NEIGHBOUR_LISTS = {"linked_cell": torch_nl_linked_cell, "n2": torch_nl_n2}


class BatchedMace(ModelInterface):
    """Energies (eV, one per box) and forces (eV/Å) of a batch of periodic boxes from a MACE module.

    ``neighbour_list``: ``linked_cell`` (scales linearly with atoms; the default) or ``n2`` (all pairs, for
    small boxes). The element table and each box's atom range are taken from the first state and reused
    while its atomic numbers stay the same."""

    def __init__(
        self, model: torch.nn.Module, *, device: torch.device, dtype: torch.dtype, neighbour_list="linked_cell"
    ):
        super().__init__()
        self._device, self._dtype = device, dtype
        self._compute_forces, self._compute_stress = True, False
        self._memory_scales_with = "n_atoms_x_density"
        self.model = model.to(device=device, dtype=dtype).eval()
        for parameter in self.model.parameters():  # forces come from the positions' gradient, never the weights'
            parameter.requires_grad_(False)
        self.r_max = float(self.model.r_max)
        self.neighbour_list = NEIGHBOUR_LISTS[neighbour_list]
        self.element_index = torch.full((int(self.model.atomic_numbers.max()) + 1,), -1, dtype=torch.long)
        self.element_index[self.model.atomic_numbers.long().cpu()] = torch.arange(len(self.model.atomic_numbers))
        self.element_index = self.element_index.to(device)
        self._atomic_numbers: torch.Tensor | None = None

    def _prepare(self, atomic_numbers: torch.Tensor, system_idx: torch.Tensor) -> None:
        """The one-hot node attributes and each box's first atom (``ptr``), once per set of atoms."""
        # torch-sim hands the same tensor on every step: an identity check, no device-to-host copy
        if atomic_numbers is self._atomic_numbers:
            return
        if self._atomic_numbers is not None and torch.equal(self._atomic_numbers, atomic_numbers):
            self._atomic_numbers = atomic_numbers
            return
        missing = sorted(set(atomic_numbers.tolist()) - set(self.model.atomic_numbers.tolist()))
        if missing:
            raise ValueError(f"the model has no elements {missing} (its: {self.model.atomic_numbers.tolist()})")
        self._atomic_numbers = atomic_numbers
        index = self.element_index[atomic_numbers]
        self.node_attrs = torch.nn.functional.one_hot(index, len(self.model.atomic_numbers)).to(self._dtype)
        counts = torch.bincount(system_idx)
        self.ptr = torch.cat([counts.new_zeros(1), torch.cumsum(counts, 0)])

    def forward(self, state) -> dict[str, torch.Tensor]:
        self._prepare(state.atomic_numbers, state.system_idx)
        cell = state.row_vector_cell  # (boxes, 3, 3), rows are the cell vectors
        pbc = torch.full((cell.shape[0], 3), bool(state.pbc), device=self._device)  # not n_systems: it syncs
        edge_index, edge_box, unit_shifts = self.neighbour_list(
            self.r_max, state.positions, cell.reshape(-1, 3), pbc, state.system_idx
        )
        unit_shifts = unit_shifts.to(self._dtype)
        shifts = torch.einsum("ei,eij->ej", unit_shifts, cell[edge_box])
        out = self.model(
            {
                "ptr": self.ptr,
                "node_attrs": self.node_attrs,
                "batch": state.system_idx,
                "pbc": pbc,
                "cell": cell,
                "positions": state.positions,
                "edge_index": edge_index,
                "unit_shifts": unit_shifts,
                "shifts": shifts,
            },
            compute_force=True,
            compute_stress=False,
            training=False,
        )
        return {"energy": out["energy"].detach(), "forces": out["forces"].detach()}
