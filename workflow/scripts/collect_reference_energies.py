from pathlib import Path

from ase.data import atomic_numbers

from mlip_transfer.logs import log_to
from mlip_transfer.reference.e0s import write_e0s_eV

log_to(snakemake.log[0])
elements = snakemake.params.elements
e0s = {atomic_numbers[el]: float(Path(f).read_text()) for el, f in zip(elements, snakemake.input, strict=True)}
write_e0s_eV(snakemake.output[0], e0s)
