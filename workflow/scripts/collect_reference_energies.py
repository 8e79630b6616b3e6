from ase.data import atomic_numbers

from mlip_transfer.logs import log_to
from mlip_transfer.reference.e0s import read_atom_energy_eV, write_e0s_eV

log_to(snakemake.log[0])
e0s = {atomic_numbers[element]: read_atom_energy_eV(snakemake.input[element]) for element in snakemake.input.keys()}
write_e0s_eV(snakemake.output[0], e0s)
