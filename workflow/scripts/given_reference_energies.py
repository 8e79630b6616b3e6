from ase.data import atomic_numbers

from mlip_transfer.logs import log_to
from mlip_transfer.reference.e0s import write_e0s_eV

log = log_to(snakemake.log[0])
e0s = snakemake.params.e0s_eV  # {element: eV}, as the config gives them
log.info("E0s given in the config (reference_energies): %s", e0s)
write_e0s_eV(snakemake.output[0], {atomic_numbers[element]: energy for element, energy in e0s.items()})
